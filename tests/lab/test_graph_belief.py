"""The campaign's conductivity graph belief on a simulated history with thickness on ~15 % of films."""

from __future__ import annotations

import numpy as np
import pytest

from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.campaign_table import simulate_campaign_table
from lab.scenarios.p3ht_cnt.graph_belief import (
    LN_CONDUCTIVITY,
    PHYSICS_PARENTS,
    GraphBeliefSettings,
    fit_graph_belief,
)
from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld, campaign_like_compositions
from models.graph_selection import SelectionSettings


@pytest.fixture(scope="module")
def world() -> P3HTCNTWorld:
    return P3HTCNTWorld.default()


@pytest.fixture(scope="module")
def history(world):
    """50 recipes x 5-6 films; the profilometer on 15 % of them."""
    return simulate_campaign_table(50, (5, 6), thickness_fraction=0.15, seed=1, world=world)


@pytest.fixture(scope="module")
def belief(history):
    return fit_graph_belief(history)


@pytest.fixture(scope="module")
def held_out(world):
    """Recipes not in the history and their true ln conductivity."""
    X = campaign_like_compositions(150, np.random.default_rng(99))
    return X, world.true_log_conductivity(X)


def test_default_graph_learns_resistance_from_every_film_and_thickness_from_the_profiled(belief, history):
    assert belief.parents == PHYSICS_PARENTS
    nodes = belief.graph.graph_.nodes
    recipes_with = lambda column: history.loc[history[column].notna(), "recipe_id"].nunique()  # noqa: E731
    assert nodes["ln_sheet_resistance"]["estimator"].n_train_rows_ == recipes_with("sheet_resistance")
    assert nodes["ln_thickness"]["estimator"].n_train_rows_ == recipes_with("thickness")
    assert recipes_with("thickness") < 0.6 * recipes_with("sheet_resistance")


def test_predicted_conductivity_at_held_out_recipes_tracks_the_truth(belief, held_out):
    X, truth = held_out
    prediction = belief.predict(X)
    assert list(prediction.columns) == ["mean", "std"] and len(prediction) == len(X)
    assert np.corrcoef(prediction["mean"], truth)[0, 1] > 0.9
    coverage = np.mean(np.abs(prediction["mean"] - truth) < 2.0 * prediction["std"])
    assert coverage > 0.8


def test_sampler_shape_determinism_and_agreement_with_predict(belief, held_out):
    X, truth = held_out
    draws = belief.sample_conductivity(X, 64, seed=7)
    assert draws.shape == (64, len(X)) and np.isfinite(draws).all()
    assert np.array_equal(draws, belief.sample_conductivity(X, 64, seed=7))
    assert not np.allclose(draws, belief.sample_conductivity(X, 64, seed=8))
    np.testing.assert_allclose(belief.sample_conductivity(X[:40], 64, seed=7), draws[:, :40], atol=1e-9)
    assert np.corrcoef(draws.mean(axis=0), truth)[0, 1] > 0.9
    assert np.median(np.abs(draws.mean(axis=0) - belief.predict(X)["mean"])) < 0.1


def test_best_structure_uses_the_hypothesis_tests_choice(history, held_out):
    settings = GraphBeliefSettings(
        structure="best",
        candidate_intermediates=("absorption_ratio",),
        selection=SelectionSettings(max_path_length=2, n_folds=3, n_resamples=3, n_mc_samples=8),
    )
    belief = fit_graph_belief(history[history["recipe_id"] < 30], settings)
    assert belief.graph.target == LN_CONDUCTIVITY and set(belief.parents) <= {"absorption_ratio", LN_CONDUCTIVITY}
    X, _ = held_out
    assert belief.sample_conductivity(X[:20], 4, seed=0).shape == (4, 20)


def test_bad_history_and_pool_are_refused(belief, history):
    with pytest.raises(ConfigError, match="history has no column 'thickness'"):
        fit_graph_belief(history.drop(columns="thickness"))
    with pytest.raises(ConfigError, match="pool must be N x 5"):
        belief.sample_conductivity(np.zeros((3, 4)), 2, seed=0)


def test_hyperparameter_schedule_days():
    from lab.scenarios.p3ht_cnt.graph_belief import hyperparameter_day

    assert [hyperparameter_day(d) for d in range(0, 14)] == [1, 1, 2, 3, 4, 4, 6, 6, 8, 8, 8, 8, 12, 12]
    assert [hyperparameter_day(d) for d in (16, 23, 24, 30, 31, 32, 47, 48)] == [16, 16, 24, 24, 24, 32, 32, 48]


def test_hyperparameter_cache_reuses_the_scheduled_days_optimization_and_a_resume_gets_the_same_belief(
    history, held_out, monkeypatch
):
    import lab.scenarios.p3ht_cnt.graph_belief as gb

    films = history.assign(day=history["recipe_id"] // 10 + 1)  # days 1..5, 10 recipes a day
    upto4 = films[films["day"] <= 4]
    calls = []
    real_fit = gb.fit_graph_belief

    def spy(frame, settings=None, hyperparameters=None):
        calls.append((int(frame["day"].max()), hyperparameters is not None))
        return real_fit(frame, settings, hyperparameters)

    monkeypatch.setattr(gb, "fit_graph_belief", spy)
    cache = gb.HyperparameterCache()
    day4 = cache.fit(upto4)  # day 4: optimized on its own films, as without a cache
    day5 = cache.fit(films)  # day 5: day 4's hyperparameters, conditioned on every film
    assert calls == [(4, False), (5, True)]
    reference = real_fit(upto4)
    X, _ = held_out
    np.testing.assert_array_equal(day4.sample_conductivity(X, 8, seed=3), reference.sample_conductivity(X, 8, seed=3))
    for key, value in gb.node_hyperparameters(reference).items():
        for name, tensor in value.items():
            assert np.array_equal(gb.node_hyperparameters(day5)[key][name].numpy(), tensor.numpy()), (key, name)
    resistance = day5.graph.graph_.nodes["ln_sheet_resistance"]["estimator"]
    assert resistance.n_train_rows_ == films.loc[films["sheet_resistance"].notna(), "recipe_id"].nunique() == 50

    calls.clear()
    resumed = gb.HyperparameterCache().fit(films)  # a resumed campaign: day 4 optimized again, the same belief
    assert calls == [(4, False), (5, True)]
    np.testing.assert_array_equal(resumed.sample_conductivity(X, 8, seed=3), day5.sample_conductivity(X, 8, seed=3))
