"""The hypothesis test end to end: enumerate graphs, cross-validate them, rank them, compare, and say what it means.

"Does intermediate m carry information about the target beyond the recipe?" becomes "does a graph through m
predict held-out recipes better than inputs -> target?", answered with a paired 95 % interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.graph_comparison import PairedComparison, compare_to_baseline, write_verdict
from models.graph_enumeration import describe_graph, longest_path_length
from models.graph_selection import CrossValidation, SelectionSettings, cross_validate_graphs
from models.physics_node import LinearPhysicsNode


@dataclass
class HypothesisResult:
    """Everything a report needs.

    Attributes:
        target: Target column.
        intermediates: Intermediate columns.
        cv: Out-of-fold predictions of every graph (enumeration order; index 0 = inputs -> target).
        comparisons: Each graph against the recipe-only graph (same order as `cv.graphs`).
        ranking: Graph indices, best first (by cross-validated r2 with measured intermediates).
        verdict: The conclusion in words.
        settings: The settings used.
    """

    target: str
    intermediates: list[str]
    cv: CrossValidation
    comparisons: list[PairedComparison]
    ranking: list[int]
    verdict: str
    settings: SelectionSettings

    def best_graph(self, metric: str = "r2") -> dict[str, tuple[str, ...]]:
        """The parents map of the best graph by `metric` (e.g. "r2_from_inputs" to pick a model for the optimizer,
        which only ever knows the recipe)."""
        index = max(range(len(self.cv.graphs)), key=lambda i: _finite_or(self.cv.graphs[i].scores[metric], -np.inf))
        return dict(self.cv.graphs[index].parents)

    def to_scores_json(self) -> dict[str, Any]:
        """The `scores.json` document of the `lab hypothesis` contract (graphs ranked, `best` = 0)."""
        graphs = []
        for index in self.ranking:
            result, comparison = self.cv.graphs[index], self.comparisons[index]
            graphs.append(
                {
                    "parents": {node: list(parents) for node, parents in result.parents.items()},
                    "description": describe_graph(result.parents),
                    "path_length": longest_path_length(result.parents),
                    **{name: _finite(value) for name, value in result.scores.items()},
                    "delta_r2_vs_inputs": comparison.delta_r2.to_dict(),
                    "delta_r2_from_inputs_vs_inputs": comparison.delta_r2_from_inputs.to_dict(),
                    "delta_log_likelihood_per_film_vs_inputs": comparison.delta_log_likelihood.to_dict(),
                }
            )
        return {
            "target": self.target,
            "graphs": graphs,
            "best": 0,
            "verdict": self.verdict,
            "n_films_scored": int(self.cv.y.shape[0]),
            "n_recipes": int(self.cv.resamples.shape[1]),
            "settings": self.settings.model_dump(),
        }


def run_hypothesis_test(
    data: pd.DataFrame,
    input_columns: Sequence[str],
    intermediates: Sequence[str],
    target: str,
    groups: np.ndarray | None = None,
    settings: SelectionSettings | None = None,
    physics: Mapping[str, LinearPhysicsNode] | None = None,
) -> HypothesisResult:
    """Score every candidate graph and decide which intermediates carry information about the target.

    Args:
        data: One row per film (NaN where a variable was not measured).
        input_columns: Recipe columns.
        intermediates: Measured intermediate columns.
        target: Target column.
        groups: Recipe label per row (replicates are resampled together and never split across folds).
        settings: Enumeration and scoring settings (defaults: `SelectionSettings()`).
        physics: Known laws for nodes, e.g. {"ln_conductivity": LinearPhysicsNode({...}, ln(1e7))}.
    """
    settings = settings or SelectionSettings()
    cv = cross_validate_graphs(data, input_columns, intermediates, target, groups, settings, physics)
    comparisons = compare_to_baseline(cv, baseline=0, n_bootstrap=settings.n_bootstrap, seed=settings.seed)
    ranking = sorted(range(len(cv.graphs)), key=lambda i: -_finite_or(cv.graphs[i].scores["r2"], -np.inf))
    verdict = write_verdict(cv, comparisons, ranking, list(intermediates), target)
    return HypothesisResult(target, list(intermediates), cv, comparisons, ranking, verdict, settings)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _finite_or(value: float, default: float) -> float:
    return float(value) if np.isfinite(value) else default
