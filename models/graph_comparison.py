"""Paired comparison of graphs against the recipe-only graph, with a 95 % interval behind every claim.

The interval is a paired percentile bootstrap: each draw picks one replicate resample at random and recipes with
replacement (the unit of independence), then computes the r2 (or mean log-likelihood) of both graphs on the same
films, so the difference is paired. It covers the uncertainty from which recipes were tested and which replicate
was measured; it does not re-fit models, so training-set variability is not included.

Many graphs are compared with one baseline, so a claim rests on the Holm-adjusted p-value of its r2 gain
(`p_holm`, family-wise error 5 % over every comparison), not on its unadjusted interval: the p-value is two-sided,
from the gain's bootstrap standard error (normal approximation), so it resolves the small values Holm needs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm

from models.graph_enumeration import INPUTS, describe_graph
from models.graph_selection import CrossValidation


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95 % interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval is above or below 0."""
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, float]:
        """JSON form."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class PairedComparison:
    """A graph against the baseline (inputs -> target), on identical resampled films.

    Attributes:
        graph: Index of the graph (in `CrossValidation.graphs`).
        delta_r2: r2 gain with measured intermediates.
        delta_r2_from_inputs: r2 gain predicting from the recipe alone.
        delta_log_likelihood: Gain in mean log predictive density per film (measured intermediates).
    """

    graph: int
    delta_r2: Interval
    delta_r2_from_inputs: Interval
    delta_log_likelihood: Interval
    p_value: float = float("nan")  # two-sided, of delta_r2 = 0
    p_holm: float = float("nan")  # Holm-adjusted over every comparison with the baseline

    @property
    def significant(self) -> bool:
        """Whether the r2 gain is nonzero at family-wise 5 % (Holm over all comparisons)."""
        return bool(self.p_holm < ALPHA)


#: Family-wise error rate of the comparisons.
ALPHA = 0.05


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries are left out of the family and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out


def _p_value(point: float, draws: np.ndarray) -> float:
    """Two-sided p-value of a zero difference from the bootstrap standard error of `draws`."""
    draws = draws[np.isfinite(draws)]
    if draws.size < 2:
        return float("nan")
    se = float(np.std(draws, ddof=1))
    if se == 0.0:
        return 0.0 if point != 0 else 1.0
    return float(2.0 * norm.sf(abs(point) / se))


def compare_to_baseline(cv: CrossValidation, baseline: int = 0, n_bootstrap: int = 2000, seed: int = 0) -> list[PairedComparison]:
    """Bootstrap the paired differences of every graph against graph `baseline` (one entry per graph)."""
    rng = np.random.default_rng(seed)
    n_resamples, n_groups = cv.resamples.shape
    picks = rng.integers(0, n_resamples, size=n_bootstrap)
    weights = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_bootstrap).astype(float)
    films = cv.resamples[picks]  # B x G film indices
    y = cv.y[films]
    y_mean = (weights * y).sum(1, keepdims=True) / n_groups
    total = (weights * (y - y_mean) ** 2).sum(1)
    total = np.where(total > 0, total, np.nan)

    def sse(pred: np.ndarray) -> np.ndarray:
        return (weights * (y - pred[films]) ** 2).sum(1)

    def mean_ll(log_density: np.ndarray) -> np.ndarray:
        return (weights * log_density[films]).sum(1) / n_groups

    base = cv.graphs[baseline]
    base_sse, base_sse_in, base_ll = sse(base.pred), sse(base.pred_from_inputs), mean_ll(base.log_density)
    comparisons = []
    p_values = np.full(len(cv.graphs), np.nan)
    for index, graph in enumerate(cv.graphs):
        point_r2 = graph.scores["r2"] - base.scores["r2"]
        point_r2_in = graph.scores["r2_from_inputs"] - base.scores["r2_from_inputs"]
        point_ll = (graph.scores["log_likelihood"] - base.scores["log_likelihood"]) / n_groups
        draws_r2 = (base_sse - sse(graph.pred)) / total
        if index != baseline:
            p_values[index] = _p_value(point_r2, draws_r2)
        comparisons.append(
            PairedComparison(
                graph=index,
                delta_r2=_interval(point_r2, draws_r2),
                delta_r2_from_inputs=_interval(point_r2_in, (base_sse_in - sse(graph.pred_from_inputs)) / total),
                delta_log_likelihood=_interval(point_ll, mean_ll(graph.log_density) - base_ll),
            )
        )
    adjusted = holm(p_values)
    return [replace(c, p_value=float(p_values[i]), p_holm=float(adjusted[i])) for i, c in enumerate(comparisons)]


def single_intermediate_graph(cv: CrossValidation, intermediate: str, target: str) -> int | None:
    """Index of the graph `m <- inputs; target <- inputs, m` (the recipe plus one measurement), if enumerated."""
    wanted = {intermediate: (INPUTS,), target: (INPUTS, intermediate)}
    for index, graph in enumerate(cv.graphs):
        if {k: tuple(v) for k, v in graph.parents.items()} == wanted:
            return index
    return None


def write_verdict(
    cv: CrossValidation,
    comparisons: list[PairedComparison],
    ranking: list[int],
    intermediates: list[str],
    target: str,
    baseline: int = 0,
) -> str:
    """The verdict in words: which measurements add information about the target, each with its interval."""
    base = cv.graphs[baseline].scores
    best = ranking[0]
    family = sum(1 for c in comparisons if np.isfinite(c.p_holm))
    significant = [i for i in ranking if i != baseline and comparisons[i].significant
                   and comparisons[i].delta_r2.estimate > 0]
    sentences = []
    if significant and best != baseline and comparisons[best].significant:
        c = comparisons[best]
        sentences.append(
            f"The best graph ({describe_graph(cv.graphs[best].parents)}) predicts {target} with cross-validated "
            f"r2 {cv.graphs[best].scores['r2']:.3f} against {base['r2']:.3f} from the recipe alone "
            f"(gain {c.delta_r2.estimate:+.3f}, 95 % interval [{c.delta_r2.low:+.3f}, {c.delta_r2.high:+.3f}], "
            f"Holm-adjusted p {c.p_holm:.2g} over {family} comparisons)."
        )
    elif significant:
        c = comparisons[significant[0]]
        sentences.append(
            f"The best significant graph ({describe_graph(cv.graphs[significant[0]].parents)}) predicts {target} with "
            f"cross-validated r2 {cv.graphs[significant[0]].scores['r2']:.3f} against {base['r2']:.3f} from the "
            f"recipe alone (gain {c.delta_r2.estimate:+.3f}, Holm-adjusted p {c.p_holm:.2g} over {family} "
            f"comparisons); the top-ranked graph's gain is not significant after the correction."
        )
    else:
        top = max((i for i in ranking if i != baseline), key=lambda i: comparisons[i].delta_r2.estimate, default=None)
        detail = ""
        if top is not None:
            c = comparisons[top].delta_r2
            detail = (
                f" The largest gain ({describe_graph(cv.graphs[top].parents)}) is {c.estimate:+.3f}, "
                f"95 % interval [{c.low:+.3f}, {c.high:+.3f}], which includes 0."
            )
        sentences.append(
            f"No graph beats the recipe-only graph significantly (Holm correction over {family} comparisons): the "
            f"intermediates carry no extra information about {target} beyond the recipe (recipe-only "
            f"cross-validated r2 {base['r2']:.3f}).{detail}"
        )
    for name in intermediates:
        index = single_intermediate_graph(cv, name, target)
        if index is None:
            continue
        comparison = comparisons[index]
        c = comparison.delta_r2
        r2 = cv.graphs[index].scores["r2"]
        if comparison.significant and c.estimate > 0:
            sentences.append(
                f"Adding {name} to the recipe raises cross-validated r2 from {base['r2']:.3f} to {r2:.3f} "
                f"(gain 95 % interval [{c.low:+.3f}, {c.high:+.3f}], Holm-adjusted p {comparison.p_holm:.2g})."
            )
        else:
            sentences.append(
                f"Adding {name} to the recipe gives r2 {r2:.3f} (gain 95 % interval [{c.low:+.3f}, {c.high:+.3f}], "
                f"Holm-adjusted p {comparison.p_holm:.2g}): no significant extra information."
            )
    return " ".join(sentences)


def _interval(point: float, draws: np.ndarray) -> Interval:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return Interval(point, float("nan"), float("nan"))
    low, high = np.percentile(draws, [2.5, 97.5])
    return Interval(float(point), float(low), float(high))
