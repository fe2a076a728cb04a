"""`lab hypothesis` as a user runs it: bad input exits 2 with one line; a small run writes its report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli.hypothesis import app

runner = CliRunner()


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    """30 recipes x 3 films: a composition, a measured ratio (informative) and a positive target."""
    rng = np.random.default_rng(0)
    recipes = rng.uniform(size=(30, 2))
    group = np.repeat(np.arange(30), 3)
    c1, c2 = recipes[group].T
    ratio = np.exp(0.3 * c1 + 0.2 * rng.standard_normal(90))
    target = np.exp(1.0 + c2 + 2.0 * np.log(ratio) + 0.05 * rng.standard_normal(90))
    frame = pd.DataFrame({"c1": c1, "c2": c2, "ratio": ratio, "sigma": target, "recipe": group, "note": "x"})
    path = tmp_path_factory.mktemp("data") / "films.csv"
    frame.to_csv(path, index=False)
    return path


def _run(data_csv, out, *extra, **overrides):
    options = {"--inputs": "c1,c2", "--intermediates": "ratio", "--target": "sigma", **overrides}
    argv = ["--data", str(data_csv), "--out", str(out)]
    for key, value in options.items():
        argv += [key, value]
    return runner.invoke(app, [*argv, *extra])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"--target": "missing"}, "unknown column 'missing'"),
        ({"--intermediates": "ratio,sigma"}, "also listed as an intermediate"),
        ({"--inputs": "c1,note"}, "column 'note' has no numbers"),
        ({"--group-by": "batch"}, "--group-by: unknown column 'batch'"),
        ({"--log": "c1,nope"}, "--log: unknown column 'nope'"),
        ({"--max-path-length": "0"}, "max_path_length"),
    ],
)
def test_bad_input_exits_2_with_one_line(data_csv, tmp_path, overrides, message):
    result = _run(data_csv, tmp_path / "out", **overrides)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "out" / "scores.json").exists()


def test_too_few_rows_and_non_positive_logs_exit_2(data_csv, tmp_path):
    small = tmp_path / "small.csv"
    pd.read_csv(data_csv).head(6).to_csv(small, index=False)
    result = _run(small, tmp_path / "out")
    assert result.exit_code == 2 and "too few rows" in result.stderr
    negative = tmp_path / "negative.csv"
    pd.read_csv(data_csv).assign(c1=lambda f: f["c1"] - 0.5).to_csv(negative, index=False)
    result = _run(negative, tmp_path / "out", **{"--log": "c1"})
    assert result.exit_code == 2 and "non-positive value" in result.stderr


def test_run_writes_scores_and_a_self_contained_report(data_csv, tmp_path):
    out = tmp_path / "out"
    result = _run(
        data_csv, out, **{"--group-by": "recipe", "--log": "ratio,sigma", "--max-path-length": "2",
                          "--resamples": "5", "--folds": "3"}
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores.json").read_text())
    assert scores["target"] == "sigma" and scores["best"] == 0 and len(scores["graphs"]) == 3
    best = scores["graphs"][0]
    assert best["parents"]["sigma"] == ["inputs", "ratio"]
    assert {"r2", "r2_std", "log_likelihood", "r2_from_inputs"} <= set(best)
    assert "Adding ratio to the recipe raises cross-validated r2" in scores["verdict"]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # gains, parity
    assert page.count('<svg class="graph"') == 3  # every graph drawn, best first
    best_svg = page.split('<svg class="graph"')[1].split("</svg>")[0]
    assert "(best)" in best_svg and ">ratio<" in best_svg and ">inputs<" in best_svg and ">sigma<" in best_svg
    assert best_svg.count("marker-end=") == 3  # edges: inputs -> ratio, inputs -> sigma, ratio -> sigma
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert scores["verdict"].split(" (")[0] in page
    assert scores["grouping"] == "column 'recipe'" and scores["correction"].startswith("Holm")
    assert scores["nested"]["outer_folds"] == 3 and scores["nested"]["r2"] > 0.5
    assert "multiple comparisons" in page and "Holm (family-wise 5 %) over 2 comparisons" in page
    assert "nested CV r2" in page and f"{scores['nested']['r2']:.3f}" in page
