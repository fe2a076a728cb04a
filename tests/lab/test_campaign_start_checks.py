"""Campaigns that cannot start are refused before anything is written (audit findings 10 and 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.cli import app
from lab.errors import ConfigError
from lab.stations.hardware_setup import example_config_path
from lab.store import Store, sqlite_url

runner = CliRunner()


def test_a_wafer_too_small_for_the_layout_is_refused_at_load(tmp_path: Path) -> None:
    bench = yaml.safe_load(example_config_path().read_text())
    bench["wafer"] = {**bench["wafer"], "columns": 4, "rows": 4}  # 16 positions, 6 x 6 films a wafer asked
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench))
    with pytest.raises(ValueError, match=r"6 x 6 = 36 films do not fit the wafer's 16 positions"):
        CampaignConfig(hardware="emulated", hardware_config=str(path), droplets_per_recipe=6, recipes_per_wafer=6)
    result = runner.invoke(app, ["campaign", "run", "--hardware", "emulated", "--hardware-config", str(path),
                                 "--days", "1", "--batch", "12", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "do not fit" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing created before the config was validated


def test_a_bad_bench_file_is_refused_before_any_output(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("mixer: [1, 2]\n")
    result = runner.invoke(app, ["campaign", "run", "--hardware", "emulated", "--hardware-config", str(path),
                                 "--days", "1", "--batch", "6", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "hardware_config" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_failed_build_leaves_a_failed_campaign_that_resume_does_not_pick(tmp_path: Path) -> None:
    from lab.campaign.control import CampaignStopped
    from lab.campaign.runner import run_campaign
    from lab.campaign.selection import select_campaign

    config = CampaignConfig(scenario="p3ht-cnt", days=1, batch=6, name="bad")
    config = config.model_copy(update={"conductivity_model": "nonsense"})  # fails when the scenario is built
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        with pytest.raises(ConfigError):
            run_campaign(config, store)
        (info,) = store.campaigns()
        assert info.status == "failed" and store.lock_info(info.id) is None and store.days(info.id) == []

        def stop(day: int) -> None:
            raise CampaignStopped("later")

        good = CampaignConfig(scenario="p3ht-cnt", days=1, batch=6, name="good")
        assert run_campaign(good, store, before_day=stop).status == "stopped"
        assert select_campaign(store, None, unfinished=True).name == "good"  # not "several unfinished campaigns"
