"""The hypothesis test does not leak or overstate: replicates grouped by default, Holm over the comparisons,
the best graph scored by nested CV, hyperparameters fitted on training folds only."""

from __future__ import annotations

import numpy as np
import pytest

from models.graph_comparison import holm
from models.graph_selection import SelectionSettings, cross_validate_graphs, identical_input_groups
from models.hypothesis_test import run_hypothesis_test
from tests.models.test_graph_selection import films

FAST = SelectionSettings(max_path_length=2, n_folds=3, n_resamples=5, n_mc_samples=16, n_bootstrap=500,
                         outer_folds=0)


def test_holm_adjusts_step_down():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, np.nan])), [0.03, 0.06, 0.06, np.nan])
    np.testing.assert_allclose(holm(np.array([0.5, 0.001])), [0.5, 0.002])
    assert np.isnan(holm(np.array([np.nan]))).all()


def test_default_groups_are_identical_input_rows():
    data = films(True, n_recipes=30)
    groups = identical_input_groups(data, ["c1", "c2"])
    assert len(np.unique(groups)) == 30
    np.testing.assert_array_equal(np.unique(groups[data["recipe"] == 7]), np.unique(groups[data["recipe"] == 7])[:1])
    implicit = cross_validate_graphs(data, ["c1", "c2"], ["m"], "y", None, FAST)
    explicit = cross_validate_graphs(data, ["c1", "c2"], ["m"], "y", data["recipe"].to_numpy(), FAST)
    for a, b in zip(implicit.graphs, explicit.graphs):  # without a group column: the same folds, the same scores
        assert a.scores["r2"] == pytest.approx(b.scores["r2"], abs=1e-9)
    leaky = cross_validate_graphs(data, ["c1", "c2"], ["m"], "y", np.arange(len(data)), FAST)  # every film alone
    folds_per_recipe = {len(set(leaky.fold[data["recipe"].to_numpy()[leaky.row_index] == r])) for r in range(30)}
    assert folds_per_recipe != {1}  # what grouping prevents: replicates split across folds


def test_holm_correction_and_nested_score_reported():
    data = films(True, n_recipes=36)
    settings = FAST.model_copy(update={"outer_folds": 2})
    result = run_hypothesis_test(data, ["c1", "c2"], ["m"], "y", settings=settings)
    assert result.grouping.startswith("identical input rows")
    assert result.settings.hyperparameters == "per_fold"
    family = [c for c in result.comparisons if np.isfinite(c.p_holm)]
    assert len(family) == len(result.cv.graphs) - 1  # every graph but the baseline against it
    assert all(c.p_holm >= c.p_value for c in family)
    best = result.comparisons[result.ranking[0]]
    assert best.significant and best.delta_r2.estimate > 0  # m carries film-level information about y
    assert "Holm-adjusted p" in result.verdict and "Nested CV (2 outer folds" in result.verdict
    nested = result.nested
    assert nested is not None and len(nested.chosen) == 2
    assert all("y <- inputs, m" in graph for graph in nested.chosen)
    assert 0.5 < nested.scores["r2"] <= nested.selected_r2 + 0.05
    document = result.to_scores_json()
    assert document["correction"].startswith("Holm") and document["nested"]["outer_folds"] == 2
    assert document["graphs"][0]["p_holm_vs_inputs"] < 0.05


def test_campaign_films_without_group_column_score_as_grouped():
    from lab.scenarios.p3ht_cnt.campaign_table import simulate_campaign_table
    from lab.scenarios.p3ht_cnt.landscape import COMPONENTS

    films_table = simulate_campaign_table(24, 4, thickness_fraction=1.0, seed=1, with_failures=False)
    films_table["ln_sheet_resistance"] = np.log(films_table["sheet_resistance"])
    args = (films_table, list(COMPONENTS), ["absorption_ratio"], "ln_sheet_resistance")
    implicit = run_hypothesis_test(*args, settings=FAST)
    grouped = run_hypothesis_test(*args, films_table["recipe_id"].to_numpy(), FAST)
    for a, b in zip(implicit.cv.graphs, grouped.cv.graphs):
        assert a.scores["r2"] == pytest.approx(b.scores["r2"], abs=1e-9)
        assert a.scores["r2_from_inputs"] == pytest.approx(b.scores["r2_from_inputs"], abs=1e-9)
