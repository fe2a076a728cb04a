"""Results by hand (`lab store import`): readings of the campaign's films and of off-line films, units checked,
provenance kept, idempotent, all or nothing; the next proposal learns from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.campaign.proposing import next_recipes, observations_of
from lab.campaign.runner import _history_with_objectives, run_campaign
from lab.cli import app
from lab.scenarios import build_scenario
from lab.store import Store, sqlite_url
from lab.store.integrity import check_integrity
from lab.store.schema import Film, ManualReading, Measurement, ReadingImport, Recipe

runner = CliRunner()
CONFIG = CampaignConfig(days=2, batch=9, droplets_per_recipe=3, seed=4, thickness_fraction=0.0, name="c")
OFFLINE = "p3ht,l_swcnt,s_swcnt,mwcnt,dwcnt"


@pytest.fixture()
def campaign(tmp_path):
    """Day 1 of a campaign measured without a single thickness (so no conductivity), day 2 not started."""
    out = tmp_path / "out"
    out.mkdir()
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        run_campaign(CONFIG.model_copy(update={"days": 1}), store)
        (c,) = store.campaigns()
        history = store.history(c.id)
    assert (history["status"] == "measured").all() and "thickness" not in history
    return out, history


def _counts(out: Path) -> tuple[int, ...]:
    with Store(sqlite_url(out / "lab.sqlite"), read_only=True) as db:
        return tuple(db.count(t) for t in (Film, Recipe, Measurement, ManualReading, ReadingImport))


def _import(out: Path, path: Path, *extra: str):
    return runner.invoke(app, ["store", "import", "--out", str(out), "--readings", str(path), *extra])


def test_import_adds_readings_and_off_line_films_once_with_their_provenance(campaign, tmp_path):
    out, history = campaign
    first = history.drop_duplicates("recipe_id")["sample_id"].tolist()  # one film of each of the 3 recipes
    lines = ["sample_id,thickness [nm],instrument"] + [f"{sid},{200 + 10 * i},Dektak XT" for i, sid in enumerate(first)]
    profiles = tmp_path / "profiles.csv"
    profiles.write_text("\n".join(lines) + "\n")
    offline = tmp_path / "offline.csv"
    offline.write_text(f"{OFFLINE},sheet_resistance,sheet_resistance_unit,thickness (nm),measured_at\n"
                       "40,45,0,0,15,2.1,Ohm/sq,95,2025-03-04T09:30\n40,45,0,0,15,2.3,ohm/sq,90,\n")
    before = _counts(out)
    result = _import(out, profiles, "--by", "ana")
    assert result.exit_code == 0 and "imported 3 reading(s)" in result.output, result.output
    result = _import(out, offline, "--by", "bo", "--instrument", "bench probe")
    assert result.exit_code == 0 and "2 off-line film(s) added" in result.output, result.output
    after = _counts(out)
    assert np.subtract(after, before).tolist() == [2, 1, 7, 7, 2]  # films, recipes, measurements, links, imports
    again = _import(out, profiles)
    assert again.exit_code == 0 and "was imported on" in again.output and "by ana: nothing changed" in again.output
    copy = tmp_path / "copy.csv"  # the same readings in another file: none is written twice
    copy.write_text("\n".join(lines[:2]) + "\n")
    assert "every reading is in the store already (1)" in _import(out, copy).output
    assert _counts(out) == after
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        scenario = build_scenario("p3ht-cnt", CONFIG.seed)
        full = _history_with_objectives(db, c.id, scenario)
        films = full.set_index("sample_id")
        assert films.loc[first, "thickness"].tolist() == [200.0, 210.0, 220.0]
        # conductivity follows from the probe's sheet resistance and the thickness profiled by hand
        expected = 1e7 / (films.loc[first[0], "sheet_resistance"] * 200.0)
        assert films.loc[first[0], "conductivity"] == pytest.approx(expected)
        off = full[full["sample_id"].str.contains("-W00-")]
        assert off["sample_id"].tolist() == ["R01-W00-S4-a", "R01-W00-S4-b"]
        assert (off["status"] == "measured").all() and off["sheet_resistance"].tolist() == [2.1, 2.3]
        assert off["conductivity"].tolist() == pytest.approx([1e7 / (2.1 * 95), 1e7 / (2.3 * 90)])
        observed = observations_of(full, scenario)
        assert observed["conductivity"].notna().sum() == 5  # the next proposal sees every one of them
        imports = {r.source: r for r in db._sessions().query(ReadingImport).all()}  # noqa: SLF001
        assert (imports["profiles.csv"].imported_by, imports["offline.csv"].imported_by) == ("ana", "bo")
        stations = {s for (s,) in db._sessions().query(Measurement.station).join(  # noqa: SLF001
            ManualReading, ManualReading.measurement_id == Measurement.id)}
        assert stations == {"manual: Dektak XT", "manual: bench probe"}
        assert check_integrity(db).ok, check_integrity(db).problems
        recipes = db.day_recipes(c.id, 1)
        assert [r.status for r in recipes] == ["cast", "cast", "cast", "imported"]
        scenario.close()


@pytest.mark.parametrize("text, expected", [
    ("sample_id,thickness [nm]\n{good}R09-W01-S1-a,100\n", "line 3: sample_id 'R09-W01-S1-a' is not a film of this"),
    ("sample_id,thickness [um]\n{sid},0.1\n", "line 2: thickness in 'um', but the scenario measures it in 'nm'"),
    ("sample_id,thickness\n{sid},100\n", "line 2: thickness has no unit; the scenario measures it in nm"),
    ("sample_id,thickness [nm]\n{good}{sid},0\n", "line 3: thickness = 0: the models take its log, it must be > 0"),
    ("sample_id,thickness [nm],colour\n{sid},100,red\n", "unknown column 'colour'"),
    ("sample_id,thickness [nm]\n{good}{sid},thick\n", "line 3: thickness 'thick' is not a number"),
    (f"{OFFLINE},conductivity [S/cm]\n10,45,0,0,45,100\n", "line 2: p3ht=10 is outside the allowed range [15, 96.3] %"),
    ("sample_id,thickness [nm]\n{good},100\n", "line 3: give a sample_id (a film of the campaign) or the recipe"),
])
def test_bad_readings_are_one_line_and_nothing_is_written(campaign, tmp_path, text, expected):
    out, history = campaign
    sid = history["sample_id"]
    path = tmp_path / "bad.csv"
    path.write_text(text.format(good=f"{sid.iloc[0]},150\n", sid=sid.iloc[1]))  # a good row first: all or nothing
    before = _counts(out)
    result = _import(out, path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert _counts(out) == before


def test_the_next_proposal_learns_from_thicknesses_profiled_by_hand(campaign, tmp_path):
    out, history = campaign
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        scenario = build_scenario("p3ht-cnt", CONFIG.seed, CONFIG.thickness_fraction)
        before = next_recipes(CONFIG, scenario, _history_with_objectives(db, c.id, scenario), 2)
        rows = "\n".join(f"{sid},{180 + i}" for i, sid in enumerate(history["sample_id"]))
        (tmp_path / "t.csv").write_text("sample_id,thickness [nm]\n" + rows + "\n")
        assert _import(out, tmp_path / "t.csv").exit_code == 0
        after_history = _history_with_objectives(db, c.id, scenario)
        assert scenario.objective_models(_history_with_objectives(db, c.id, scenario)) != {}
        after = next_recipes(CONFIG, scenario, after_history, 2)
        scenario.close()
    assert before.X.shape == after.X.shape == (3, 5)
    assert not np.allclose(before.X, after.X)  # a model-based batch instead of a space-filling one
