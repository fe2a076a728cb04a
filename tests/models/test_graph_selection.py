"""Graph selection: grouped CV never splits recipes, one film per recipe per resample, and synthetic truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.errors import ModelInputError
from models.graph_selection import SelectionSettings, cross_validate_graphs, draw_resamples, validate_frame
from models.hypothesis_test import run_hypothesis_test

SETTINGS = SelectionSettings(max_path_length=2, n_folds=3, n_resamples=10, n_mc_samples=16, n_bootstrap=500)


def films(informative: bool, n_recipes: int = 45, replicates: int = 3, seed: int = 0) -> pd.DataFrame:
    """Recipes (c1, c2) x replicates; m = f(c1) + film noise; y depends on m's film noise or not at all."""
    rng = np.random.default_rng(seed)
    recipes = rng.uniform(size=(n_recipes, 2))
    group = np.repeat(np.arange(n_recipes), replicates)
    c1, c2 = recipes[group].T
    m = np.sin(3 * c1) + 0.5 * rng.standard_normal(group.shape[0])
    if informative:
        y = c2 + 1.5 * m + 0.1 * rng.standard_normal(group.shape[0])
    else:
        y = c2 + 1.5 * np.sin(3 * c1) + 0.75 * rng.standard_normal(group.shape[0])
    return pd.DataFrame({"c1": c1, "c2": c2, "m": m, "y": y, "recipe": group})


@pytest.fixture(scope="module")
def informative():
    data = films(True)
    return data, run_hypothesis_test(data, ["c1", "c2"], ["m"], "y", data["recipe"].to_numpy(), SETTINGS)


@pytest.fixture(scope="module")
def uninformative():
    data = films(False)
    return data, run_hypothesis_test(data, ["c1", "c2"], ["m"], "y", data["recipe"].to_numpy(), SETTINGS)


def test_folds_never_split_a_recipe(informative):
    data, result = informative
    recipes = data["recipe"].to_numpy()[result.cv.row_index]
    folds_per_recipe = pd.Series(result.cv.fold).groupby(recipes).nunique()
    assert folds_per_recipe.max() == 1 and set(result.cv.fold) == {0, 1, 2}


def test_resamples_pick_one_film_per_recipe():
    groups = np.repeat(np.arange(6), [1, 2, 3, 4, 5, 6])
    resamples = draw_resamples(groups, 50, seed=0)
    assert resamples.shape == (50, 6)
    np.testing.assert_array_equal(groups[resamples], np.broadcast_to(np.arange(6), (50, 6)))
    assert len({tuple(r) for r in resamples}) > 1
    np.testing.assert_array_equal(resamples, draw_resamples(groups, 50, seed=0))


def test_graph_through_an_informative_intermediate_wins(informative):
    _, result = informative
    scores = result.to_scores_json()
    best = scores["graphs"][0]
    assert best["parents"] == {"m": ["inputs"], "y": ["inputs", "m"]}
    baseline = next(g for g in scores["graphs"] if g["parents"] == {"y": ["inputs"]})
    assert best["r2"] > 0.9 > baseline["r2"] + 0.3
    assert best["delta_r2_vs_inputs"]["low"] > 0.3
    assert best["log_likelihood"] > baseline["log_likelihood"]
    # From the recipe alone m's film noise is unknowable: no real gain there.
    assert best["r2_from_inputs"] < baseline["r2_from_inputs"] + 0.1
    assert "Adding m to the recipe raises cross-validated r2" in result.verdict


def test_uninformative_intermediate_gives_no_extra_information(uninformative):
    _, result = uninformative
    assert "carry no extra information" in result.verdict
    assert "no significant extra information" in result.verdict
    gains = [c.delta_r2 for c in result.comparisons[1:]]
    assert all(g.low <= 0 for g in gains)


def test_scores_json_contract(informative):
    _, result = informative
    scores = result.to_scores_json()
    assert scores["target"] == "y" and scores["best"] == 0 and scores["verdict"] == result.verdict
    assert len(scores["graphs"]) == 3
    r2 = [g["r2"] for g in scores["graphs"]]
    assert r2 == sorted(r2, reverse=True)
    for graph in scores["graphs"]:
        for key in ("parents", "r2", "r2_std", "log_likelihood", "r2_from_inputs"):
            assert key in graph


def test_rows_without_target_still_train_intermediates():
    data = films(True, n_recipes=30)
    data.loc[data.index % 3 == 0, "y"] = np.nan
    cv = cross_validate_graphs(data, ["c1", "c2"], ["m"], "y", data["recipe"].to_numpy(), SETTINGS)
    assert cv.y.shape[0] == data["y"].notna().sum()
    assert all(np.isfinite(g.pred).all() and np.isfinite(g.log_density_from_inputs).all() for g in cv.graphs)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(target="nope"), "unknown column 'nope'"),
        (dict(intermediates=["m", "y"]), "also listed as an intermediate"),
        (dict(inputs=["c1", "text"]), "column 'text' has no numbers"),
        (dict(rows=5), "too few rows"),
    ],
)
def test_bad_frames_name_the_problem(change, message):
    data = films(True).assign(text="abc")
    data = data.head(change.get("rows", len(data)))
    with pytest.raises(ModelInputError, match=message):
        validate_frame(data, change.get("inputs", ["c1", "c2"]), change.get("intermediates", ["m"]), change.get("target", "y"))


def test_best_graph_by_metric(informative):
    _, result = informative
    assert result.best_graph("r2") == {"m": ("inputs",), "y": ("inputs", "m")}
    assert result.best_graph("r2_from_inputs") in [g.parents for g in result.cv.graphs]
