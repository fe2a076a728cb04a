"""The belief of a derived objective: one GP node per measured intermediate, composed through the formula.

`conductivity = 1e7 / (sheet_resistance * thickness)` with sheet resistance on every sample and thickness on a
share of them: a GP on conductivity would learn from the profiled samples only. Here each intermediate gets its
own GP node on the recipe (ln scale where every reading is positive), fitted on every sample that measured it
(`models.gp_graph.GPGraph`, replicates grouped by recipe), and the objective's sample paths are the formula
applied to the nodes' joint Matheron paths. It meets the optimizer's `Belief` contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.scenarios.formulas import Formula, evaluate_all

#: Sample paths averaged for the posterior mean.
_MEAN_PATHS = 64


@dataclass(frozen=True)
class FormulaBelief:
    """A fitted graph of GP nodes for one derived objective, on the objective's modelled scale.

    Attributes:
        objective: The derived quantity.
        nodes: The measured intermediates, each a GP node on the recipe.
        log_nodes: Intermediates modelled on ln scale.
        log_objective: Whether the objective's modelled scale is ln (`scale: log`).
    """

    objective: str
    graph: object
    nodes: tuple[str, ...]
    log_nodes: frozenset[str]
    formulas: Mapping[str, Formula]
    order: tuple[str, ...]
    log_objective: bool
    num_features: int = 512

    def sample(self, X: np.ndarray, n: int, seed: int) -> np.ndarray:
        """`n` joint sample paths of the objective at `X` (`n x N`), modelled scale."""
        paths = self.graph.sample_paths(n, seed=seed, num_features=self.num_features, intermediate_noise=False)
        values = paths(np.asarray(X, dtype=float))
        raw = {q: np.exp(values[_node(q)]) if q in self.log_nodes else values[_node(q)] for q in self.nodes}
        derived = evaluate_all(self.formulas, raw, list(self.order))
        out = derived[self.objective] if self.objective in derived else raw[self.objective]
        if self.log_objective:
            with np.errstate(all="ignore"):
                out = np.log(np.where(out > 0, out, np.nan))
        return np.nan_to_num(out, nan=-1e6 if self.log_objective else np.nanmin(out) if np.isfinite(out).any() else 0.0)

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean of the objective at `X` (`N`), the average of fixed-seed sample paths."""
        return self.sample(X, _MEAN_PATHS, seed=0).mean(axis=0)


def _node(quantity: str) -> str:
    return f"m_{quantity}"


def fit_formula_belief(history: pd.DataFrame, parameters: Sequence[str], objective: str, nodes: Sequence[str],
                       formulas: Mapping[str, Formula], order: Sequence[str], log_objective: bool,
                       seed: int = 0) -> FormulaBelief | None:
    """Fit the nodes on the measured rows of `history`; None while a node has fewer than 3 measured recipes."""
    from models.gp_graph import GPGraph
    from models.graph_enumeration import INPUTS

    measured = history[history["status"] == "measured"]
    frame = measured[list(parameters)].astype(float).reset_index(drop=True)
    log_nodes = set()
    groups = measured["recipe_id"].astype(str).to_numpy() if "recipe_id" in measured else None
    for q in nodes:
        values = pd.to_numeric(measured[q], errors="coerce").to_numpy(dtype=float) if q in measured else np.full(len(measured), np.nan)
        observed = values[np.isfinite(values)]
        recipes = measured.loc[np.isfinite(values), "recipe_id"].nunique() if groups is not None else len(observed)
        if recipes < 3:
            return None
        if (observed > 0).all():
            log_nodes.add(q)
            with np.errstate(all="ignore"):
                values = np.log(values)
        frame[_node(q)] = values
    parents = {_node(q): (INPUTS,) for q in nodes}
    graph = GPGraph(parents, list(parameters), _node(nodes[0]), max_train_rows=400, max_fit_rows=150, seed=seed)
    try:
        graph.fit(frame, groups)
    except ValueError as exc:
        raise ConfigError(f"model: cannot fit the graph of {objective!r} ({exc})") from None
    return FormulaBelief(objective=objective, graph=graph, nodes=tuple(nodes), log_nodes=frozenset(log_nodes),
                         formulas=dict(formulas), order=tuple(order), log_objective=log_objective)
