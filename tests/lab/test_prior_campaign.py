"""A campaign (and `lab propose`) that starts from what the lab knows: the 233 real films as a related task."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.campaign.prior import load_prior
from lab.campaign.proposing import next_recipes
from lab.cli import app
from lab.scenarios import build_scenario
from lab.scenarios.p3ht_cnt.landscape import CSV_COLUMNS
from lab.store import Store, sqlite_url

runner = CliRunner()
NAMES = list(CSV_COLUMNS)


@pytest.fixture(scope="module")
def real_films(p3ht_data_path, tmp_path_factory):
    """The real films in the scenario's columns (the data card's names mapped, blends summed to exactly 100 %)."""
    frame = pd.read_csv(p3ht_data_path).rename(columns={v: k for k, v in CSV_COLUMNS.items()})
    frame[NAMES] = frame[NAMES].div(frame[NAMES].sum(axis=1), axis=0) * 100
    path = tmp_path_factory.mktemp("prior") / "films.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_campaign_warm_started_from_real_films_reports_the_learned_task_correlation(real_films, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--days", "2", "--batch", "12", "--droplets", "3", "--seed", "5",
                                 "--thickness-fraction", "1.0", "--prior", str(real_films), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    prior = summary["prior"]
    assert prior["source"] == "films.csv" and prior["same_process"] is False
    day1, day2 = prior["days"]
    assert (day1["mode"], day1["rows"], day1["task_correlation"]) == \
        ("same process (no measurement of the campaign yet)", 231, {})  # 2 films lie outside the bounds
    assert day2["mode"] == "multi-task" and 0.0 < day2["task_correlation"]["conductivity"] <= 1.0
    report = (out / "report.html").read_text()
    assert "learned task correlation conductivity" in report and "a related task (multi-task GP" in report
    events = [json.loads(line) for line in (out / "lab.log").read_text().splitlines()]
    logged = [e for e in events if e["event"] == "prior"]
    assert [e["day"] for e in logged] == [1, 2] and "conductivity" in logged[1]["task_correlation"]
    # the prior changed the first day: a model-based batch instead of a space-filling design
    config = CampaignConfig(days=2, batch=12, droplets_per_recipe=3, seed=5, thickness_fraction=1.0)
    scenario = build_scenario("p3ht-cnt", 5, 1.0)
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        warm = np.array([[r.values[n] for n in NAMES] for r in db.day_recipes(c.id, 1)])
        # another campaign's store is a prior too: its measured films, with the scenario's objectives
        from_store = load_prior(sqlite_url(out / "lab.sqlite"), scenario)
        history = db.history(c.id)
        measured = int(((history["status"] == "measured") & history["conductivity"].notna()).sum())
    cold = next_recipes(config, scenario, pd.DataFrame(), 1).X
    assert warm.shape == cold.shape == (4, 5) and not np.allclose(warm, cold)
    assert 20 <= len(from_store) == measured and list(from_store.columns) == [*NAMES, "conductivity"]
    scenario.close()


def test_lab_propose_takes_a_prior_and_says_what_it_learned(real_films, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({
        "parameters": [{"name": "p3ht", "low": 15, "high": 96.3}, {"name": "l_swcnt", "low": 0, "high": 60},
                       {"name": "s_swcnt", "low": 0, "high": 70}, {"name": "mwcnt", "low": 0, "high": 85},
                       {"name": "dwcnt", "low": 0, "high": 75}],
        "constraints": [{"sum": NAMES, "equals": 100}],
        "objectives": [{"name": "conductivity", "goal": "maximize", "scale": "log"}]}))
    films = pd.read_csv(real_films)
    observations = tmp_path / "obs.csv"
    films.iloc[[0, 40, 80, 120, 160, 200]].to_csv(observations, index=False)  # six films of "this" lab
    args = ["propose", "--space", str(space), "--observations", str(observations), "--batch", "6", "--seed", "1"]
    cold = runner.invoke(app, [*args, "--out", str(tmp_path / "cold.csv")])
    warm = runner.invoke(app, [*args, "--out", str(tmp_path / "warm.csv"), "--prior", str(real_films)])
    assert cold.exit_code == 0 and warm.exit_code == 0, warm.output
    assert "prior: 231 rows, multi-task; learned task correlation conductivity 0." in warm.stderr
    assert not np.allclose(pd.read_csv(tmp_path / "cold.csv").to_numpy(), pd.read_csv(tmp_path / "warm.csv").to_numpy())
    bad = tmp_path / "bad.csv"
    films.drop(columns=["dwcnt"]).to_csv(bad, index=False)
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "x.csv"), "--prior", str(bad)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "prior: missing parameter column(s) ['dwcnt']" in result.stderr


def test_a_prior_without_the_parameter_columns_is_refused_before_anything_is_written(p3ht_data_path, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--days", "1", "--batch", "6", "--out", str(out),
                                 "--prior", str(p3ht_data_path)])  # the data card's own column names
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "prior raw_data.csv: missing parameter column(s) ['p3ht', 'l_swcnt', 's_swcnt', 'mwcnt', 'dwcnt']" in \
        result.stderr
    assert not (out / "lab.sqlite").exists()
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"days": 1, "prior": "films.csv", "strategy": "random"}))
    refused = runner.invoke(app, ["campaign", "start", "--config", str(config), "--out", str(out)])
    assert refused.exit_code == 2 and "prior: strategy 'random' uses no model" in refused.stderr
