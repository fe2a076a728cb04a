from __future__ import annotations

import pytest

from lab.errors import StoreError
from lab.records import CastResult, FilmKey, Reading
from lab.store import RecipeRecord, Store
from lab.store.schema import Film, Measurement, Recipe

KEYS = [FilmKey(1, 1, 1, d) for d in "abc"]
ROUTE = {"states": ["optical"], "quantities": {"optical": ["absorbance_525"]}}


@pytest.fixture()
def store(store_url):
    with Store(store_url) as s:
        yield s


@pytest.fixture()
def planned(store):
    cid = store.create_campaign("c1", "p3ht-cnt", 0, {"days": 1}, route=ROUTE)
    _, rids = store.start_day(cid, 1, "space-filling", [RecipeRecord({"p3ht": 60.0, "l_swcnt": 40.0}, {"p3ht": "%"})])
    store.plan_films(cid, [(k, rids[0]) for k in KEYS])
    return cid


def _optical(key, value):
    return Reading(key, "optical", {"absorbance_525": value, "absorption_ratio": 0.9}, {"absorbance_525": ""})


def test_round_trip_gives_one_row_per_film(store, planned):
    cid = planned
    assert set(store.film_states(cid)["status"]) == {"planned"}
    store.record_cast(cid, [CastResult(k, "caster") for k in KEYS[:2]] + [CastResult(KEYS[2], "caster", failure="dewetted")],
                      truth={"conductivity": 150.0}, truth_units={"conductivity": "S/cm"})
    for i, k in enumerate(KEYS[:2]):
        store.record_reading(cid, _optical(k, 0.1 * (i + 1)), "optical")
    store.record_reading(cid, Reading(KEYS[0], "probe", {"sheet_resistance": 80.0}, {"sheet_resistance": "Ohm/sq"}), "measured")
    store.record_reading(cid, Reading(KEYS[1], "probe", failure="contact check failed"), "measured")
    hist = store.history(cid)
    assert list(hist["sample_id"]) == ["R01-W01-S1-a", "R01-W01-S1-b", "R01-W01-S1-c"]
    assert hist["status"].tolist() == ["measured", "failed", "failed"]
    assert hist["failure"].tolist() == ["", "probe: contact check failed", "caster: dewetted"]
    assert hist["absorbance_525"].round(3).tolist()[:2] == [0.1, 0.2]
    assert hist["true_conductivity"].tolist() == [150.0] * 3
    assert (hist["p3ht"] == 60.0).all()
    with Store(store.url) as again:  # durable: a new connection sees the same rows
        assert len(again.history(cid)) == 3


def test_failed_write_rolls_back_everything(store, planned):
    cid = planned
    store.record_cast(cid, [CastResult(k, "caster") for k in KEYS])
    with pytest.raises(StoreError, match="absorbance_525 = nan is not a finite number"):
        store.record_reading(cid, _optical(KEYS[0], float("nan")), "optical")
    assert store.count(Measurement) == 0
    assert set(store.film_states(cid)["status"]) == {"cast"}


def test_a_step_out_of_order_changes_nothing(store, planned):
    cid = planned
    store.record_cast(cid, [CastResult(KEYS[0], "caster")])
    with pytest.raises(StoreError, match="R01-W01-S1-a is cast, expected planned"):
        # the second film is fine, the first was already cast: the whole write is refused
        store.record_cast(cid, [CastResult(KEYS[1], "caster"), CastResult(KEYS[0], "caster")])
    assert store.film_states(cid)["status"].tolist() == ["cast", "planned", "planned"]
    with pytest.raises(StoreError, match="planned; it cannot take a reading"):
        store.record_reading(cid, _optical(KEYS[2], 0.3), "optical")


def test_film_states_come_from_the_route(store, planned):
    cid = planned
    store.record_cast(cid, [CastResult(KEYS[0], "caster")])
    with pytest.raises(StoreError, match="'tested' is not one of .*the campaign's route"):
        store.record_reading(cid, _optical(KEYS[0], 0.3), "tested")  # not a state of this campaign's route
    assert store.film_states(cid)["status"].tolist()[0] == "cast"


def test_database_constraint_violation_rolls_back(store, planned):
    cid = planned
    rid = int(store.film_states(cid)["recipe_id"].iloc[0])
    with pytest.raises(StoreError, match="rolled back"):
        store.plan_films(cid, [(FilmKey(1, 1, 1, "d"), rid), (KEYS[0], rid)])  # duplicate sample_id
    assert store.count(Film) == 3


def test_bad_recipe_leaves_no_day(store):
    cid = store.create_campaign("c1", "p3ht-cnt", 0, {})
    with pytest.raises(StoreError, match="recipe 1"):
        store.start_day(cid, 1, "design", [RecipeRecord({"p3ht": 100.0}), RecipeRecord({"p3ht": float("inf")})])
    assert store.count(Recipe) == 0


def test_duplicate_campaign_name_refused(store):
    store.create_campaign("c1", "p3ht-cnt", 0, {})
    with pytest.raises(StoreError, match="already exists"):
        store.create_campaign("c1", "p3ht-cnt", 1, {})


@pytest.mark.parametrize("url", ["nosuchdialect://x", "sqlite:////nonexistent-dir/sub/lab.sqlite"])
def test_unopenable_store_is_a_store_error(url):
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(url)
