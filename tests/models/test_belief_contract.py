"""Every estimator meets the one belief contract (`models.belief.Belief`): mean `N`, seeded samples `n x N`."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pytest

from models.belief import Belief
from models.gp_graph import GPGraph
from models.gp_node import GPNode
from models.graph_enumeration import INPUTS
from models.physics_node import LinearPhysicsNode
from models.replicate_gp import ReplicateGP
from models.task_gp import TaskGP


def _gp_node(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    X = films[["c1", "c2"]].to_numpy()
    return GPNode(seed=0).fit(X, films["S"].to_numpy(), films["recipe"].to_numpy()), X


def _physics(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    law = LinearPhysicsNode({"S": -1.0, "T": -1.0}, 16.1)
    X = films[["S", "T"]].fillna(6.8).to_numpy()
    return law.fit(X, films["Y"].to_numpy()), X


def _replicate_gp(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    X = films[["c1", "c2"]].to_numpy()
    return ReplicateGP(bounds=np.array([[0.0, 0.0], [1.0, 1.0]]), seed=0).fit(X, films["S"].to_numpy()), X


def _task_gp(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    X, y = films[["c1", "c2"]].to_numpy(), np.exp(films["S"].to_numpy())
    half = films["recipe"].to_numpy() % 2 == 0  # the campaign: half the recipes; the prior: the others, shifted
    gp = TaskGP(bounds=np.array([[0.0, 0.0], [1.0, 1.0]]), log_outcome=True, num_features=256, seed=0)
    return gp.fit(X[half], y[half], X[~half], 1.5 * y[~half]), X


def _graph(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    graph = GPGraph({"S": (INPUTS,), "T": (INPUTS,), "Y": ("S", "T")}, ["c1", "c2"], "Y",
                    physics={"Y": LinearPhysicsNode({"S": -1.0, "T": -1.0}, 16.1)}, seed=0)
    return graph.fit(films, films["recipe"].to_numpy()), films[["c1", "c2"]].to_numpy()


def _formula_belief(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    from lab.scenarios.formula_belief import fit_formula_belief
    from lab.scenarios.formulas import parse_formula

    history = pd.DataFrame({"c1": films["c1"], "c2": films["c2"], "rs": np.exp(films["S"]), "t": np.exp(films["T"]),
                            "recipe_id": films["recipe"], "status": "measured"})
    formulas = {"sigma": parse_formula("sigma", "1e7 / (rs * t)")}
    belief = fit_formula_belief(history, ["c1", "c2"], "sigma", ["rs", "t"], formulas, ["sigma"], True)
    return belief, films[["c1", "c2"]].to_numpy()


def _p3ht_graph_belief(films: pd.DataFrame) -> tuple[Belief, np.ndarray]:
    from lab.scenarios.p3ht_cnt.graph_belief import GraphBeliefSettings, fit_graph_belief

    history = pd.DataFrame({"c1": films["c1"], "c2": films["c2"], "sheet_resistance": np.exp(films["S"]),
                            "thickness": np.exp(films["T"]), "recipe_id": films["recipe"], "status": "measured"})
    belief = fit_graph_belief(history, GraphBeliefSettings(input_columns=("c1", "c2"), num_features=256))
    return belief, films[["c1", "c2"]].to_numpy()


ESTIMATORS: dict[str, Callable] = {"P3HT GraphBelief": _p3ht_graph_belief, "GPNode": _gp_node, "LinearPhysicsNode": _physics, "ReplicateGP": _replicate_gp,
                                   "GPGraph": _graph, "FormulaBelief": _formula_belief, "TaskGP": _task_gp}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_meets_the_belief_contract(name: str, make_films) -> None:
    films = make_films(False)
    belief, X = ESTIMATORS[name](films)
    X = X[:30]
    assert isinstance(belief, Belief)
    mean = belief.mean(X)
    assert mean.shape == (30,) and np.isfinite(mean).all()
    draws = belief.sample(X, 64, 3)
    assert draws.shape == (64, 30) and np.isfinite(draws).all()
    np.testing.assert_array_equal(draws, belief.sample(X, 64, 3))  # seeded
    assert not np.array_equal(draws, belief.sample(X, 64, 4))
    spread = draws.std(axis=0).mean() + 1e-9
    assert np.abs(draws.mean(axis=0) - mean).mean() < 0.5 * spread + 0.05 * np.abs(mean).mean()
