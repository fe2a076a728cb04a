"""The hypothesis-test report: `scores.json` (the public contract) and a self-contained `report.html`.

The page shows the verdict in words, the ranked table of graphs (cross-validated r2 with measured intermediates
and from the recipe alone, log-likelihood, the paired gain over the recipe-only graph with its 95 % interval),
drawings of the top graphs (inline SVG), a forest plot of the gains, and parity plots of out-of-fold predictions.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lab.files import write_atomic  # noqa: E402
from lab.reports.html import figure_to_html, page, table_to_html  # noqa: E402
from models.graph_enumeration import INPUTS, describe_graph, graph_to_networkx  # noqa: E402
from models.hypothesis_test import HypothesisResult  # noqa: E402

#: Graphs drawn and listed in the forest plot.
TOP_DRAWN = 4
TOP_FOREST = 15


def write_hypothesis_report(result: HypothesisResult, out_dir: Path) -> tuple[Path, Path]:
    """Write `out_dir/scores.json` and `out_dir/report.html`; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scores_path = out_dir / "scores.json"
    write_atomic(scores_path, json.dumps(result.to_scores_json(), indent=2))
    report_path = out_dir / "report.html"
    write_atomic(report_path, render_hypothesis_report(result))
    return scores_path, report_path


def render_hypothesis_report(result: HypothesisResult) -> str:
    """The report as one HTML string (graphs as inline SVG, plots as base64 PNG; opens offline, no script)."""
    cv, settings = result.cv, result.settings
    facts = pd.DataFrame(
        [
            ("target", result.target),
            ("intermediates", ", ".join(result.intermediates) or "(none)"),
            ("films scored (with a target value)", cv.y.shape[0]),
            ("recipes (groups)", cv.resamples.shape[1]),
            ("graphs enumerated", len(cv.graphs)),
            ("max path length", settings.max_path_length),
            ("grouped CV folds", settings.n_folds),
            ("one-film-per-recipe resamples", settings.n_resamples),
            ("MC draws per prediction", settings.n_mc_samples),
            ("recipes grouped by", result.grouping),
            ("hyperparameters", "fitted on each fold's training rows" if settings.hyperparameters == "per_fold"
             else "fitted once on all rows (held-out rows included)"),
            ("multiple comparisons", result.correction),
            ("best graph, nested CV r2 (held-out recipes, selection rerun per outer fold)",
             f"{result.nested.scores['r2']:.3f} ± {result.nested.scores['r2_std']:.3f} ({result.nested.outer_folds} "
             f"outer folds; {result.nested.selected_r2:.3f} on the folds that selected it)"
             if result.nested is not None else "not computed"),
            ("seed", settings.seed),
        ],
        columns=["", "value"],
    )
    sections = [
        ("Verdict", f"<p>{html.escape(result.verdict)}</p>"),
        ("Data and settings", table_to_html(facts, css_class="facts")),
        ("Ranked graphs", _ranked_table(result)),
        ("Top graphs", _top_graphs(result)),
        ("Gain over the recipe-only graph", figure_to_html(_forest_plot(result), "Paired r2 gain with 95 % interval.")),
        ("Parity plots", figure_to_html(_parity_plots(result), "Out-of-fold predictions of every scored film.")),
        ("Method", _method_text()),
    ]
    return page(f"Hypothesis test: what predicts {result.target}?", sections)


def _ranked_table(result: HypothesisResult) -> str:
    rows = []
    for rank, index in enumerate(result.ranking, start=1):
        scores = result.cv.graphs[index].scores
        gain = result.comparisons[index].delta_r2
        rows.append(
            {
                "rank": rank,
                "graph": describe_graph(result.cv.graphs[index].parents),
                "r2": f"{scores['r2']:.3f} ± {scores['r2_std']:.3f}",
                "r2 from inputs": f"{scores['r2_from_inputs']:.3f} ± {scores['r2_from_inputs_std']:.3f}",
                "log-likelihood": f"{scores['log_likelihood']:.1f}",
                "r2 gain [95 % interval]": f"{gain.estimate:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]",
                "p (Holm)": f"{result.comparisons[index].p_holm:.2g}" if index != 0 else "",
            }
        )
    return table_to_html(pd.DataFrame(rows))


def _top_graphs(result: HypothesisResult) -> str:
    """The best graphs drawn as inline SVG, best first (inputs -> intermediates -> target), with their scores."""
    from lab.reports.graph_drawing import COLORS, graph_svg

    cards = []
    for rank, index in enumerate(result.ranking[:TOP_DRAWN], start=1):
        graph = graph_to_networkx(result.cv.graphs[index].parents)
        scores = result.cv.graphs[index].scores
        gain = result.comparisons[index].delta_r2
        label = {1: " (best)", 2: " (runner-up)"}.get(rank, "")
        title = f"#{rank}{label}: r2 {scores['r2']:.3f}"
        gain_text = "the recipe-only baseline" if index == 0 else (
            f"gain {gain.estimate:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]")
        cards.append(
            f"<div class='graph-card'>{graph_svg(graph, INPUTS, result.target, title, key=str(rank))}"
            f"<div class='note'>{html.escape(describe_graph(result.cv.graphs[index].parents))}<br>"
            f"r2 from inputs {scores['r2_from_inputs']:.3f}; {html.escape(gain_text)}</div></div>"
        )
    legend = " ".join(
        f"<span style='background:{COLORS[role]};border:1px solid #666;border-radius:4px;padding:0 .4rem'>"
        f"{role}</span>" for role in ("input", "intermediate", "target")
    )
    return (f"<div style='display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start'>{''.join(cards)}</div>"
            f"<p class='note'>Edges run parent -> child; {legend}. Each node is a GP on its parents.</p>")


def _forest_plot(result: HypothesisResult) -> plt.Figure:
    shown = [i for i in result.ranking if i != 0][:TOP_FOREST]
    fig, ax = plt.subplots(figsize=(9, 0.38 * max(len(shown), 1) + 1.2))
    for row, index in enumerate(shown):
        gain = result.comparisons[index].delta_r2
        color = "#d62728" if result.comparisons[index].significant else "#7f7f7f"
        ax.plot([gain.low, gain.high], [row, row], color=color, lw=2)
        ax.plot(gain.estimate, row, "o", color=color)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_yticks(range(len(shown)), [describe_graph(result.cv.graphs[i].parents) for i in shown], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"r2 gain over {result.target} <- inputs (95 % interval; red: significant after Holm)")
    return fig


def _parity_plots(result: HypothesisResult) -> plt.Figure:
    cv, best = result.cv, result.ranking[0]
    panels = [
        (cv.graphs[best].pred, f"best graph, intermediates measured\n(r2 {cv.graphs[best].scores['r2']:.3f})"),
        (cv.graphs[best].pred_from_inputs, f"best graph, from inputs alone\n(r2 {cv.graphs[best].scores['r2_from_inputs']:.3f})"),
        (cv.graphs[0].pred, f"{result.target} <- inputs\n(r2 {cv.graphs[0].scores['r2']:.3f})"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    low, high = float(np.nanmin(cv.y)), float(np.nanmax(cv.y))
    for ax, (pred, title) in zip(axes, panels):
        ax.scatter(cv.y, pred, s=8, alpha=0.5)
        ax.plot([low, high], [low, high], "k--", lw=0.8)
        ax.set_xlabel(f"measured {result.target}")
        ax.set_ylabel("predicted (out of fold)")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _method_text() -> str:
    return (
        "<p>Each graph is a DAG from the recipe (<code>inputs</code>) through measured intermediates to the target; "
        "each node is a Gaussian process on its parents (BoTorch SingleTaskGP, normalised inputs, standardised "
        "outcome), fitted on the rows where it and its parents are measured. Scores are grouped cross-validation "
        "(replicates of one recipe never split across folds; without a group column, rows with identical inputs are "
        "one recipe); each node's hyperparameters are fitted on the training rows of each fold. <em>r2</em> uses the measured intermediates of the "
        "held-out film (unmeasured ones are propagated); <em>r2 from inputs</em> propagates Monte Carlo draws from the "
        "recipe alone. Each resample keeps one film per recipe; scores are means ± std over resamples. The gain "
        "interval is a paired percentile bootstrap over recipes and resamples against the recipe-only graph. "
        "A gain is called significant when its two-sided p-value (from the bootstrap standard error), "
        "Holm-adjusted over every comparison with the recipe-only graph, is below 0.05. The best graph is selected "
        "among many, so its own score is optimistic; the nested score reruns the whole selection on the training "
        "recipes of each outer fold and scores the graph it picks on the outer held-out recipes.</p>"
    )
