"""`lab campaign run` as a user runs it: bad input exits 2 with one line; a short campaign writes its outputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["campaign", "run", *args])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scenario", "graphene"], "scenario"),
        (["--batch", "0"], "batch"),
        (["--days", "-1"], "days"),
        (["--thickness-fraction", "1.5"], "thickness_fraction"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result = _run(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "out" / "lab.sqlite").exists()


def test_unwritable_output_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # running as root: permissions do not bind
        target = "/proc/lab-out"
    else:
        target = str(locked / "out")
    result = _run("--out", target)
    assert result.exit_code == 2
    assert "--out" in result.stderr and "not writable" in result.stderr


def test_store_that_cannot_be_opened(tmp_path):
    result = _run("--out", str(tmp_path / "out"), "--store", "sqlite:////nonexistent-dir/x/lab.sqlite")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "cannot be opened" in result.stderr


def test_short_campaign_end_to_end(tmp_path):
    out = tmp_path / "out"
    result = _run("--days", "2", "--batch", "24", "--seed", "1", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    hist = pd.read_csv(out / "history.csv")
    hist["failure"] = hist["failure"].fillna("").astype(str)
    assert len(hist) == 48 and hist["sample_id"].is_unique
    assert list(hist.columns[:16]) == [
        "day", "sample_id", "p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt", "absorbance_525", "absorption_ratio",
        "sheet_resistance", "thickness", "conductivity", "cost", "distance_to_data", "status", "failure",
    ]
    assert (hist["distance_to_data"] >= 0).all()  # to the real compositions the world was calibrated on
    assert {"true_conductivity", "true_absorption_ratio", "true_thickness"} <= set(hist.columns)
    comps = hist[["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]].to_numpy()
    np.testing.assert_allclose(comps.sum(axis=1), 100.0, rtol=1e-6)
    assert set(hist["status"]) <= {"measured", "failed"}
    assert (hist.loc[hist["status"] == "failed", "failure"].str.len() > 0).all()
    assert (hist.loc[hist["status"] == "measured", "failure"] == "").all()
    measured = hist[hist["status"] == "measured"]
    np.testing.assert_allclose(
        measured["conductivity"], 1e7 / (measured["sheet_resistance"] * measured["thickness"]), rtol=1e-9
    )
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["best_true"]["conductivity"]) == 2 and len(summary["hypervolume"]) == 2
    assert summary["best_true"]["conductivity"][1] >= summary["best_true"]["conductivity"][0]
    assert summary["hypervolume"][1] >= summary["hypervolume"][0] > 0
    assert summary["world_optimum"]["conductivity"] >= summary["best_true"]["conductivity"][1]
    front, regret = summary["hypervolume_of_front"], summary["hypervolume_regret"]  # against the true front
    assert front == pytest.approx(0.2839, abs=1e-3) and regret[0] >= regret[1] > 0
    assert regret[1] == pytest.approx(front - summary["hypervolume"][1])
    assert summary["hypervolume_reference"] == [0.0, -0.12]
    html = (out / "report.html").read_text()
    assert html.count('class="plotly-graph-div"') >= 3 and "http" not in html.split("<body>")[1][:2000]
    # the store holds the same films
    from lab.store import Store, sqlite_url

    with Store(sqlite_url(out / "lab.sqlite")) as store:
        assert len(store.history(1)) == 48


def test_campaign_is_reproducible_with_a_seed(tmp_path):
    for name in ("a", "b"):
        assert _run("--days", "1", "--batch", "12", "--seed", "5", "--out", str(tmp_path / name), "-q").exit_code == 0
    a = pd.read_csv(tmp_path / "a" / "history.csv")
    b = pd.read_csv(tmp_path / "b" / "history.csv")
    pd.testing.assert_frame_equal(a, b)
