"""The campaign report as a reader gets it: one self-contained file with interactive figures that opens offline."""

from __future__ import annotations

import re

import numpy as np
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.reports.html import page

runner = CliRunner()

FIGURES = ("pareto-front", "progress", "parity", "composition-map")
HEADINGS = ("Pareto front (measured values of every sample)", "Progress per day", "Model parity on held-out films",
            "Composition map", "Top recipes")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("campaign")
    result = runner.invoke(app, ["campaign", "run", "--days", "2", "--batch", "24", "--seed", "3",
                                 "--thickness-fraction", "0.5", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text()


def _plotly_bundle_count(text: str) -> int:
    return text.count("* plotly.js v")


def test_report_is_self_contained(report):
    assert not re.search(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?//""", report, re.I)
    assert "cdn.plot.ly" not in report.split("</script>", 1)[1]  # nothing after the bundle points at a CDN
    assert _plotly_bundle_count(report) == 1


def test_report_has_every_figure_and_section(report):
    for figure_id in FIGURES:
        assert f'id="{figure_id}"' in report, figure_id
        assert f"Plotly.newPlot(" in report
    assert report.count('class="plotly-graph-div"') == len(FIGURES)
    for heading in HEADINGS:
        assert heading in report, heading
    assert "could not be drawn" not in report


def test_parity_prints_its_interval_coverage(report):
    coverage = re.findall(r"conductivity: (\d+)% inside the 95 % interval", report)
    assert coverage and 0 <= int(coverage[0]) <= 100
    assert re.search(r"\d+ films, [23] folds", report)


def test_pareto_front_hovers_with_sample_ids_and_recipes(report):
    body = report.split('id="pareto-front"', 1)[1]
    assert "non-dominated" in body and "p3ht" in body and re.search(r"R\d\d-W\d\d-S\d", body)


def test_a_page_without_plotly_figures_gets_no_bundle():
    text = page("t", [("a", "<p>x</p>")])
    assert _plotly_bundle_count(text) == 0 and "<script" not in text


def test_cross_validation_is_grouped_and_capped():
    import pandas as pd

    from lab.reports.parity import cross_validate
    from lab.scenarios import build_scenario

    scenario = build_scenario("p3ht-cnt", 0, conductivity_model="gp")
    rng = np.random.default_rng(0)
    from optimizers.sampling import sample_feasible

    X = np.repeat(sample_feasible(scenario.space, 40, seed=1), 3, axis=0)
    truth = scenario.true_objectives(X)
    history = pd.DataFrame(X, columns=scenario.space.names).assign(
        day=np.repeat(np.arange(40) % 2 + 1, 3), recipe_id=np.repeat(np.arange(40), 3).astype(str),
        sample_id=[f"s{i}" for i in range(120)], status="measured",
        conductivity=truth["conductivity"].to_numpy() * np.exp(0.1 * rng.standard_normal(120)),
    )
    [pred] = cross_validate(history, scenario, max_films=60)
    assert pred.objective == "conductivity" and pred.folds == 3 and len(pred.measured) <= 60
    assert "ReplicateGP" in pred.model and 0.6 <= pred.coverage <= 1.0 and pred.r2 > 0.3
    held = history.set_index("sample_id").loc[pred.sample_id]
    assert held.groupby("recipe_id").size().eq(3).all()  # whole recipes are held out, never a part
