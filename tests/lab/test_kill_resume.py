"""Runners SIGKILLed mid-cycle and resumed: nothing lost, nothing dispensed twice, the same values.

The runners are the real CLI in forked processes (fast: no re-import); the emulated instruments run in
their own process (`lab emulate`) and keep their dispense log across the runners' deaths.
`benchmarks/kill_resume.py` does the same with >= 20 kills and separate interpreters.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from crash_harness import Kill, emulators, run_with_kills
from dispense_audit import audit_dispense_log
from drivers.config import example_config_path
from lab.campaign.config import CampaignConfig
from lab.campaign.cycle import plan_day
from lab.store import Store, sqlite_url
from lab.store.integrity import check_integrity


@pytest.fixture()
def bench_file(tmp_path):
    data = yaml.safe_load(example_config_path().read_text())
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.6
    path = tmp_path / "bench-in.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _planned_ids(days: int, batch: int, droplets: int, store: Store, cid: int) -> list[str]:
    config = CampaignConfig(days=days, batch=batch, droplets_per_recipe=droplets)
    ids = []
    for d in store.days(cid):
        recipes = store.day_recipes(cid, d.index)
        ids += [k.sample_id for _, keys in plan_day(config, d.index, [r.id for r in recipes]) for k in keys]
    return sorted(ids)


def test_emulated_runner_killed_mid_dispense_mid_write_and_mid_step(tmp_path, bench_file):
    kills = [Kill(at="mix.start:2+12"), Kill(at="commit:record_reading:2"), Kill(at="measure.read:1"),
             Kill(at="commit:begin_mixing:1")]
    with emulators(bench_file, tmp_path, mode="fork") as (bench, dispense_log):
        out = tmp_path / "out"
        first = ["campaign", "run", "--hardware", "hardware", "--hardware-config", str(bench), "--days", "1",
                 "--batch", "12", "--droplets", "3", "--seed", "2", "--out", str(out), "-q"]
        outcomes = run_with_kills(first, ["campaign", "resume", "--out", str(out), "-q"], kills, out / "lab.log",
                                  mode="fork", timeout_s=120, output=tmp_path / "runner.out",
                                  dispense_log=dispense_log)
    assert [o.killed for o in outcomes] == [True] * len(kills) + [False], outcomes
    assert outcomes[-1].returncode == 0
    assert outcomes[0].landed.startswith("in mix")
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        (campaign,) = store.campaigns()
        assert campaign.status == "done" and store.lock_info(campaign.id) is None
        report = check_integrity(store)
        assert report.ok, report.problems
        history = store.history(campaign.id)
        # every planned film exactly once, none in flight
        assert sorted(history["sample_id"]) == _planned_ids(1, 12, 3, store, campaign.id)
        assert history["sample_id"].is_unique and set(history["status"]) <= {"measured", "failed"}
        audit = audit_dispense_log(dispense_log, store, campaign.id)
        assert audit.problems == [] and audit.double_dispenses == 0
        assert audit.pump_runs > 0 and audit.droplets >= audit.films_cast
        interrupted = history["failure"].str.contains("interrupted while casting: needs inspection")
        assert interrupted.sum() in (0, 3)  # the mid-dispense kill fails its recipe's films, never re-dispenses
    log = [json.loads(line) for line in (out / "lab.log").read_text().splitlines()]
    assert sum(e["event"] == "lock_taken_over" for e in log) == len(kills)


def test_cli_run_killed_then_resumed_equals_an_uninterrupted_run(tmp_path):
    args = ["--days", "2", "--batch", "12", "--droplets", "3", "--seed", "3", "-q"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    outcomes = run_with_kills(["campaign", "run", *args, "--out", str(killed)],
                              ["campaign", "resume", "--out", str(killed), "-q"],
                              [Kill(at="commit:record_reading:7"), Kill(at="mix.start:3")], killed / "lab.log",
                              mode="fork", timeout_s=180, output=tmp_path / "runner.out")
    assert [o.killed for o in outcomes] == [True, True, False] and outcomes[-1].returncode == 0
    done = run_with_kills(["campaign", "run", *args, "--out", str(clean)], [], [], clean / "lab.log", mode="fork",
                          timeout_s=180, output=tmp_path / "runner.out")
    assert done[0].returncode == 0
    a, b = pd.read_csv(killed / "history.csv"), pd.read_csv(clean / "history.csv")
    assert len(a) == len(b) == 24
    pd.testing.assert_frame_equal(a, b)  # keyed randomness: the same films, the same values
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (killed, clean))
    assert sa["hypervolume"] == sb["hypervolume"] and sa["best_true"] == sb["best_true"]


def test_sigterm_via_campaign_stop_finishes_the_step_and_resume_completes(tmp_path):
    import time

    from typer.testing import CliRunner

    from crash_harness import CliProcess
    from lab.cli import app

    out = tmp_path / "out"
    proc = CliProcess(["campaign", "run", "--days", "1", "--batch", "12", "--droplets", "3", "--seed", "4",
                       "--strategy", "random", "--out", str(out), "-q"], {"LAB_KILL_AT": ""}, mode="fork",
                      log=tmp_path / "runner.out")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"step": "measure"' not in ((out / "lab.log").read_text()
                                                                      if (out / "lab.log").exists() else ""):
        time.sleep(0.01)
    stop = CliRunner().invoke(app, ["campaign", "stop", "--out", str(out), "--wait", "30"])
    assert stop.exit_code == 0, stop.output
    assert f"asked pid {proc.pid}" in stop.output and "stopped" in stop.output
    assert proc.wait(30) == 0  # a clean stop is no error
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        (campaign,) = store.campaigns()
        assert campaign.status == "stopped" and store.lock_info(campaign.id) is None
        assert check_integrity(store).ok
        left = store.film_states(campaign.id)["status"].isin(["planned", "cast", "optical"]).sum()
        assert left > 0  # it stopped early, between two steps
    log = [json.loads(line) for line in (out / "lab.log").read_text().splitlines()]
    assert log[-1]["event"] == "campaign_end" and log[-1]["status"] == "stopped"
    resumed = CliRunner().invoke(app, ["campaign", "resume", "--out", str(out), "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert len(pd.read_csv(out / "history.csv")) == 12


def test_power_loss_mid_dispense_never_dispenses_twice(tmp_path, bench_file):
    """The short power-loss soak (`benchmarks/power_loss_soak.py` runs >= 20): the runner dies mid-dispense and
    the pumps are power-cycled (counters reset, alarm raised) before each resume."""
    from crash_harness import emulator_process

    kills = [Kill(at="mix.start:1+12"), Kill(at="mix.start:2+25")]
    with emulator_process(bench_file, tmp_path, mode="fork") as (bench, dispense_log, power_cycle):
        out = tmp_path / "out"
        first = ["campaign", "run", "--hardware", "hardware", "--hardware-config", str(bench), "--days", "1",
                 "--batch", "12", "--droplets", "3", "--seed", "4", "--out", str(out), "-q"]
        outcomes = run_with_kills(first, ["campaign", "resume", "--out", str(out), "-q"], kills, out / "lab.log",
                                  mode="fork", timeout_s=120, output=tmp_path / "runner.out",
                                  dispense_log=dispense_log, after_kill=lambda i: power_cycle())
    assert [o.killed for o in outcomes] == [True, True, False] and outcomes[-1].returncode == 0, outcomes
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        (campaign,) = store.campaigns()
        history = store.history(campaign.id)
        assert sorted(history["sample_id"]) == _planned_ids(1, 12, 3, store, campaign.id)
        assert set(history["status"]) <= {"measured", "failed"} and check_integrity(store).ok
        audit = audit_dispense_log(dispense_log, store, campaign.id)
        assert audit.double_dispenses == 0, audit.problems
        failed = history[history["status"] == "failed"]["failure"]
        assert failed.str.len().gt(0).all()  # every failed film says why
        assert failed.str.contains("were reset (power cycle)", regex=False).sum() >= 3  # a reset pump's recipe: unknown, not re-cast
