"""The electrode recipe space: shipped constraint vs the exact manufacturability limit, seeded draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.scenarios.electrode.microstructure import manufacturable
from lab.scenarios.electrode.space import draw_recipes, feasible, linear_manufacturability_constraint, load_space


def test_shipped_space_has_the_recipe_and_objectives():
    space = load_space()
    assert space.names == ["active_material", "solid_content", "calendering"]
    lows, highs = space.bounds
    np.testing.assert_allclose(lows, [92.7, 55.0, 0.0])
    np.testing.assert_allclose(highs, [96.0, 73.0, 50.0])
    assert [(o.name, o.goal) for o in space.objectives] == [
        ("energy_density", "maximize"),
        ("power_density", "maximize"),
    ]


def test_shipped_constraint_is_the_regenerated_one():
    shipped = load_space().constraints[0]
    fresh = linear_manufacturability_constraint()
    assert shipped.names == fresh.names
    np.testing.assert_allclose(shipped.coefficients, fresh.coefficients)
    assert shipped.at_most == pytest.approx(fresh.at_most)


def test_linear_constraint_is_conservative_and_tight():
    space = load_space()
    rng = np.random.default_rng(0)
    lows, highs = space.bounds
    X = rng.uniform(lows, highs, size=(20000, 3))
    linear_ok = space.is_feasible(X)
    exact_ok = manufacturable(X[:, 0], X[:, 1], X[:, 2])
    assert not (linear_ok & ~exact_ok).any()  # never admits a non-manufacturable recipe
    assert (exact_ok & ~linear_ok).sum() < 0.01 * exact_ok.sum()  # and loses < 1 % of the good ones


def test_feasible_masks_rows():
    frame = pd.DataFrame(
        {"active_material": [94.0, 94.0, 97.0], "solid_content": [60.0, 60.0, 60.0], "calendering": [10.0, 45.0, 0.0]}
    )
    assert feasible(frame).tolist() == [True, False, False]


def test_draws_are_feasible_seeded_and_space_filling():
    a, b, c = draw_recipes(64, seed=3), draw_recipes(64, seed=3), draw_recipes(64, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())
    assert len(a) == 64 and feasible(a).all()
    span = (a.max() - a.min()) / (load_space().bounds[1] - load_space().bounds[0])
    assert (span[["active_material", "solid_content"]] > 0.9).all()
    assert span["calendering"] > 0.6  # the porosity limit caps calendering near 39 %


def test_draw_refuses_a_non_positive_count():
    with pytest.raises(ConfigError, match="n=0"):
        draw_recipes(0, seed=0)
