"""Which films the profilometer measures: every recipe's first film, then evenly spread (`lab.stations.profiling`)."""

from __future__ import annotations

import numpy as np
import pytest

from lab.records import FilmKey
from lab.scenarios.p3ht_cnt.scenario import P3HTCNTScenario
from lab.stations.profiling import profiles_thickness


def _profiled(fraction: float, rule: str = "per_recipe", films: int = 6) -> str:
    rng = np.random.default_rng(0)
    keys = [FilmKey(1, 1, 1, letter) for letter in "abcdefghij"[:films]]
    return "".join(k.droplet for k in keys if profiles_thickness(k, fraction, rule, rng.random))


@pytest.mark.parametrize("fraction, expected", [(0.15, "a"), (1 / 3, "ad"), (0.5, "ace"), (1.0, "abcdef"), (0.0, "")])
def test_per_recipe_first_film_then_spread(fraction, expected):
    assert _profiled(fraction) == expected


def test_random_rule_and_unknown_rule():
    assert 0 < len(_profiled(0.5, "random", 10)) < 10
    with pytest.raises(ValueError, match="thickness_rule"):
        _profiled(0.5, "sometimes")


@pytest.mark.parametrize("rule, all_recipes", [("per_recipe", True), ("random", False)])
def test_every_recipe_gets_a_thickness(rule, all_recipes):
    scenario = P3HTCNTScenario(seed=3, thickness_fraction=0.15, thickness_rule=rule)
    recipes = 100 * np.random.default_rng(1).dirichlet(np.ones(5), size=400)
    recipes = recipes[(recipes[:, 0] >= 15) & (recipes[:, 1] <= 60)][:30]
    with_thickness = 0
    for slot, x in enumerate(recipes):
        keys = [FilmKey(1, slot // 6 + 1, slot % 6 + 1, letter) for letter in "abcdef"]
        cast = scenario.maker.cast(dict(zip(scenario.space.names, x)), keys)
        readings = [scenario.steps[1].measure(c.film) for c in cast if c.ok]
        with_thickness += any("thickness" in r.values for r in readings if r.ok)
    # per recipe: every recipe profiled (up to a 1 % profilometer failure); random 15 %: ~40 % of recipes have none
    assert (with_thickness >= 29) if all_recipes else (with_thickness <= 25)
