"""Campaigns through the drivers and emulated instruments (`--hardware emulated`), with and without faults."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from drivers.config import example_config_path
from lab.campaign.config import CampaignConfig
from lab.campaign.runner import run_campaign
from lab.cli import app
from lab.store import Store, sqlite_url

runner = CliRunner()


@pytest.fixture(scope="module")
def bench_file(tmp_path_factory) -> str:
    """The shipped example with reply timeouts that tolerate a loaded test machine."""
    data = yaml.safe_load(example_config_path().read_text())
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.6
    path = tmp_path_factory.mktemp("bench") / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _run(tmp_path, **options):
    config = CampaignConfig(days=1, batch=18, droplets_per_recipe=3, seed=4, **options)
    with Store(sqlite_url(tmp_path / f"{config.hardware}.sqlite")) as store:
        return run_campaign(config, store)


def test_emulated_day_matches_the_simulated_day(tmp_path, bench_file) -> None:
    emulated = _run(tmp_path, hardware="emulated", hardware_config=bench_file)
    simulated = _run(tmp_path, hardware="simulated")
    history = emulated.history
    assert len(history) == 18 and history["sample_id"].is_unique
    assert set(history["status"]) <= {"measured", "failed"}
    assert history.loc[history["status"] == "failed", "failure"].notna().all()
    assert emulated.summary["faults"]["double_dispenses"] == 0
    assert emulated.summary["faults"]["injected"] == {"drop": 0, "corrupt": 0, "alarm": 0, "disconnect": 0}
    assert emulated.summary["hardware"]["kind"] == "emulated"
    # day 1 proposes the same recipes; the emulated instruments read the same world
    columns = ["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]
    assert np.allclose(history[columns].to_numpy(), simulated.history[columns].to_numpy(), atol=0.02)
    both = [h[h["status"] == "measured"].groupby("recipe_id")[["sheet_resistance", "absorption_ratio"]].median()
            for h in (history, simulated.history)]
    ln_rs = np.log(both[0]["sheet_resistance"].to_numpy()) - np.log(both[1]["sheet_resistance"].to_numpy())
    assert np.abs(ln_rs).max() < 0.35  # film scatter of ln Rs is ~0.13 per film
    assert np.allclose(both[0]["absorption_ratio"], both[1]["absorption_ratio"], rtol=0.06)


def test_faults_are_detected_and_nothing_is_dispensed_twice(tmp_path, bench_file) -> None:
    result = _run(tmp_path, hardware="emulated", hardware_config=bench_file, faults=0.05)
    history = result.history
    assert len(history) == 18 and history["sample_id"].is_unique
    assert set(history["status"]) <= {"measured", "failed"}
    assert history.loc[history["status"] == "failed", "failure"].str.len().gt(0).all()
    faults = result.summary["faults"]
    injected, detected = faults["injected"], faults["detected"]
    assert sum(injected.values()) >= 10
    for kind in ("drop", "corrupt", "disconnect"):
        assert detected[kind] == injected[kind], kind
    assert detected["alarm"] == injected["alarm"] + faults["detected_not_injected"]["alarm"]
    assert faults["double_dispenses"] == 0
    audit = faults["dispense_audit"]
    # a stalled mix stops before its remaining pumps run, so fewer runs may be logged than planned; never more
    assert audit["extra_pump_runs"] == 0 and audit["overfilled_runs"] == 0
    assert 0 < audit["pump_runs_logged"] <= audit["pump_runs_planned"]


def test_cli_runs_an_emulated_campaign_and_refuses_a_bad_fault_rate(tmp_path, bench_file) -> None:
    out = tmp_path / "out"
    args = ["campaign", "run", "--hardware", "emulated", "--hardware-config", bench_file, "--days", "1",
            "--batch", "6", "--droplets", "3", "--faults", "0.02", "--out", str(out), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["films"] == 6 and summary["faults"]["double_dispenses"] == 0
    assert summary["config"]["hardware"] == "emulated" and summary["config"]["faults"] == 0.02
    assert len(pd.read_csv(out / "history.csv")) == 6
    bad = runner.invoke(app, ["campaign", "run", "--hardware", "emulated", "--faults", "2", "--days", "1",
                              "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and bad.stderr.strip().startswith("error: faults")
    simulated = runner.invoke(app, ["campaign", "run", "--faults", "0.1", "--days", "1", "--out", str(tmp_path / "s")])
    assert simulated.exit_code == 2 and "faults: only with hardware 'emulated'" in simulated.stderr
    missing = runner.invoke(app, ["campaign", "run", "--hardware", "emulated", "--hardware-config",
                                  str(tmp_path / "none.yaml"), "--days", "1", "--out", str(tmp_path / "m")])
    assert missing.exit_code == 2 and "cannot read the hardware (bench) file" in missing.stderr
