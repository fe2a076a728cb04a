"""The hypothesis test end to end: enumerate graphs, cross-validate them, rank them, compare, and say what it means.

"Does intermediate m carry information about the target beyond the recipe?" becomes "does a graph through m
predict held-out recipes better than inputs -> target?", answered with a paired 95 % interval and a p-value
Holm-corrected over every graph compared (`models.graph_comparison`).

The best graph's own cross-validated score is optimistic: it won on those very folds. `nested_cv` scores the
selection itself: in each of `settings.outer_folds` grouped outer folds the whole selection runs on the outer
training recipes only, and the graph it picks is fitted there (hyperparameters too) and scored on the outer
held-out recipes, which neither the selection nor the fit ever saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sklearn.model_selection import GroupKFold

from models.graph_comparison import PairedComparison, compare_to_baseline, write_verdict
from models.graph_enumeration import ParentMap, describe_graph, enumerate_graphs, longest_path_length
from models.graph_selection import (
    CrossValidation,
    canonical_groups,
    GraphCVResult,
    SelectionSettings,
    cross_validate_graphs,
    draw_resamples,
    fit_predict_fold,
    identical_input_groups,
    score_resamples,
    validate_frame,
)
from models.physics_node import LinearPhysicsNode


@dataclass(frozen=True)
class NestedScore:
    """The selected graph scored on recipes its selection never saw (see the module docstring).

    Attributes:
        outer_folds: Grouped outer folds.
        scores: Mean and std over one-film-per-recipe resamples of `r2`, `r2_from_inputs` and the log-likelihoods.
        chosen: The graph selected on each outer fold's training recipes (described).
        selected_r2: The overall best graph's r2 on the CV that selected it (the optimistic figure).
    """

    outer_folds: int
    scores: dict[str, float]
    chosen: list[str]
    selected_r2: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"outer_folds": self.outer_folds, **{k: _finite(v) for k, v in self.scores.items()},
                "chosen_per_outer_fold": self.chosen, "selected_r2": _finite(self.selected_r2)}


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
        grouping: How films were grouped into recipes (given labels, or identical input rows).
        nested: The selection's nested-CV score (None with `settings.outer_folds = 0`).
    """

    target: str
    intermediates: list[str]
    cv: CrossValidation
    comparisons: list[PairedComparison]
    ranking: list[int]
    verdict: str
    settings: SelectionSettings
    grouping: str = "identical input rows"
    nested: NestedScore | None = None

    @property
    def correction(self) -> str:
        """The multiple-comparison correction applied, in words."""
        family = sum(1 for c in self.comparisons if np.isfinite(c.p_holm))
        return f"Holm (family-wise 5 %) over {family} comparisons with the recipe-only graph"

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
                    "p_value_vs_inputs": _finite(comparison.p_value),
                    "p_holm_vs_inputs": _finite(comparison.p_holm),
                }
            )
        return {
            "target": self.target,
            "graphs": graphs,
            "best": 0,
            "verdict": self.verdict,
            "n_films_scored": int(self.cv.y.shape[0]),
            "n_recipes": int(self.cv.resamples.shape[1]),
            "grouping": self.grouping,
            "correction": self.correction,
            "nested": self.nested.to_dict() if self.nested is not None else None,
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
    grouping: str | None = None,
) -> HypothesisResult:
    """Score every candidate graph and decide which intermediates carry information about the target.

    Args:
        data: One row per film (NaN where a variable was not measured).
        input_columns: Recipe columns.
        intermediates: Measured intermediate columns.
        target: Target column.
        groups: Recipe label per row (replicates are resampled together and never split across folds);
            default: identical input rows.
        settings: Enumeration and scoring settings (defaults: `SelectionSettings()`).
        physics: Known laws for nodes, e.g. {"ln_conductivity": LinearPhysicsNode({...}, ln(1e7))}.
        grouping: How `groups` were made, in words, for the report (default: "given labels" or "identical
            input rows").
    """
    settings = settings or SelectionSettings()
    if groups is None:
        frame = validate_frame(data, input_columns, intermediates, target, None, settings.min_rows)
        groups = identical_input_groups(frame, input_columns)
        grouping = grouping or "identical input rows (replicates of one recipe are one group)"
    cv = cross_validate_graphs(data, input_columns, intermediates, target, groups, settings, physics)
    comparisons = compare_to_baseline(cv, baseline=0, n_bootstrap=settings.n_bootstrap, seed=settings.seed)
    ranking = sorted(range(len(cv.graphs)), key=lambda i: -_finite_or(cv.graphs[i].scores["r2"], -np.inf))
    verdict = write_verdict(cv, comparisons, ranking, list(intermediates), target)
    nested = None
    if settings.outer_folds:
        nested = nested_cv(data, input_columns, intermediates, target, np.asarray(groups), settings, physics)
        nested = NestedScore(nested.outer_folds, nested.scores, nested.chosen, cv.graphs[ranking[0]].scores["r2"])
        verdict += (f" Nested CV ({nested.outer_folds} outer folds, the selection rerun on each): the selected graph "
                    f"predicts held-out recipes with r2 {nested.scores['r2']:.3f} ({nested.scores['r2_from_inputs']:.3f} "
                    f"from the recipe alone), against {nested.selected_r2:.3f} on the folds that selected it.")
    return HypothesisResult(target, list(intermediates), cv, comparisons, ranking, verdict, settings,
                            grouping or "given labels", nested)


def nested_cv(
    data: pd.DataFrame,
    input_columns: Sequence[str],
    intermediates: Sequence[str],
    target: str,
    groups: np.ndarray,
    settings: SelectionSettings,
    physics: Mapping[str, LinearPhysicsNode] | None = None,
    graphs: Sequence[ParentMap] | None = None,
) -> NestedScore:
    """Score the graph selection by nested grouped CV (`settings.outer_folds` outer folds; module docstring)."""
    frame = validate_frame(data, input_columns, intermediates, target, None, settings.min_rows).reset_index(drop=True)
    graphs = list(graphs) if graphs is not None else enumerate_graphs(intermediates, target, settings.max_path_length)
    codes = canonical_groups(groups)
    scored = np.flatnonzero(np.isfinite(frame[target].to_numpy()))
    position = np.full(len(frame), -1)
    position[scored] = np.arange(len(scored))
    held_out = GraphCVResult({}, *(np.full(len(scored), np.nan) for _ in range(4)))
    outer = np.full(len(frame), -1)
    for k, (_, test) in enumerate(GroupKFold(n_splits=settings.outer_folds).split(frame, groups=codes)):
        outer[test] = k
    inner_settings = settings.model_copy(update={"outer_folds": 0})
    chosen = []
    for k in range(settings.outer_folds):
        train = frame[outer != k]
        inner = cross_validate_graphs(train, input_columns, intermediates, target, codes[outer != k], inner_settings,
                                      physics, graphs)
        best = max(range(len(graphs)), key=lambda i: _finite_or(inner.graphs[i].scores["r2"], -np.inf))
        chosen.append(describe_graph(graphs[best]))
        held_out.parents = dict(graphs[best])
        test_rows = scored[outer[scored] == k]
        fit_predict_fold(held_out, position[test_rows], train, codes[outer != k], frame.iloc[test_rows], input_columns,
                         intermediates, target, settings, physics, settings.seed + 1000 + k)
    cv = CrossValidation(y=frame[target].to_numpy()[scored], group_index=np.unique(codes[scored], return_inverse=True)[1],
                         fold=outer[scored], row_index=scored,
                         resamples=draw_resamples(codes[scored], settings.n_resamples, settings.seed), graphs=[held_out])
    return NestedScore(settings.outer_folds, score_resamples(cv, held_out), chosen, float("nan"))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _finite_or(value: float, default: float) -> float:
    return float(value) if np.isfinite(value) else default
