"""`lab campaign plan`: tomorrow's steps from a stopped campaign's directory, without touching its store."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.campaign.control import CampaignStopped
from lab.campaign.plan import Measure, Mix, Propose, day_plan, PlannedRecipe
from lab.campaign.runner import run_campaign
from lab.campaign.session import runner_session
from lab.cli import app
from lab.records import FilmKey


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plan_prints_tomorrow_and_leaves_the_store_unchanged(tmp_path: Path) -> None:
    config = CampaignConfig(scenario="p3ht-cnt", days=2, batch=12, droplets_per_recipe=3, seed=0)

    def stop_before_day_2(day: int) -> None:
        if day == 2:
            raise CampaignStopped("day 2 waits")

    with runner_session(tmp_path) as (store, control):
        result = run_campaign(config, store, control=control, before_day=stop_before_day_2)
    assert result.status == "stopped"
    store_file = tmp_path / "lab.sqlite"
    before = _digest(store_file)
    out = CliRunner().invoke(app, ["campaign", "plan", "--out", str(tmp_path)], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert _digest(store_file) == before
    lines = out.output.splitlines()
    assert "day 2: propose the day's recipes" in out.output
    mixes = [line for line in lines if "mix and make 3 sample(s)" in line]
    assert len(mixes) == 4  # 12 films, 3 per recipe
    assert "R02-W01-S1-a, R02-W01-S1-b, R02-W01-S1-c" in mixes[0] and "p3ht" in mixes[0]
    assert sum("measure R02-" in line for line in lines) == 12 * 2  # optical, then conductivity
    assert lines[-1] == "day 2: finish"


def test_day_plan_resumes_each_film_after_its_state() -> None:
    a, b = FilmKey(1, 1, 1, "a"), FilmKey(1, 1, 1, "b")
    recipe = PlannedRecipe(7, 0, "cast", {"x": 1.0}, ((a, "optical"), (b, "failed")))
    steps = day_plan(1, [recipe], ["optical", "electrical"])
    assert isinstance(steps[0], Mix) and steps[0].mode == "restore"
    measures = [s for s in steps if isinstance(s, Measure)]
    assert [(s.film, s.station, s.final) for s in measures] == [(a, "electrical", True)]
    assert not any(isinstance(s, Propose) for s in steps)
