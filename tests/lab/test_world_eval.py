"""`lab world eval`: the world's noise-free quantities and objectives of given recipes, and their distance to the
world's calibration data, for every kind of scenario (built-in worlds and a scenario file's emulated world)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.scenarios import build_scenario
from tests.lab.scenario_files import write_scenario

RUNNER = CliRunner()
P3HT_RECIPES = pd.DataFrame({"p3ht": [40.0, 46.92, 20.0], "l_swcnt": [60.0, 50.30, 10.0], "s_swcnt": [0.0, 1.53, 10.0],
                             "mwcnt": [0.0, 0.04, 50.0], "dwcnt": [0.0, 1.21, 10.0], "note": ["optimum", "real", "far"]})


def _eval(tmp_path: Path, recipes: pd.DataFrame, *options: str) -> tuple[int, str, Path]:
    src, out = tmp_path / "recipes.csv", tmp_path / "out" / "truth.csv"
    recipes.to_csv(src, index=False)
    res = RUNNER.invoke(app, ["world", "eval", *options, "--recipes", str(src), "--out", str(out)])
    return res.exit_code, res.output, out


def test_p3ht_truth_cost_and_distance(tmp_path):
    code, output, out = _eval(tmp_path, P3HT_RECIPES, "--scenario", "p3ht-cnt")
    assert code == 0, output
    frame = pd.read_csv(out)
    assert list(frame.columns[:6]) == list(P3HT_RECIPES.columns)  # the input columns are kept, in order
    assert {"true_conductivity", "true_sheet_resistance", "true_thickness", "true_absorption_ratio",
            "true_absorbance_525", "true_cost", "distance_to_data"} <= set(frame.columns)
    scenario = build_scenario("p3ht-cnt", 0)
    X = P3HT_RECIPES.iloc[:, :5].to_numpy()
    np.testing.assert_allclose(frame["true_conductivity"], scenario.world.true_properties(X)["conductivity"])
    np.testing.assert_allclose(frame["true_cost"], scenario.world.cost(X))
    # 1e7 / (Rs t) is the conductivity, noise-free
    np.testing.assert_allclose(frame["true_conductivity"],
                               1e7 / (frame["true_sheet_resistance"] * frame["true_thickness"]), rtol=1e-9)
    # 40/60 and the 5-component film are real compositions; 20/10/10/50/10 lies far from every real film
    assert frame["distance_to_data"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert frame["distance_to_data"].iloc[1] < 0.001
    assert frame["distance_to_data"].iloc[2] > 0.12
    assert "distance_to_data" in output


def test_scenario_file_world(tmp_path):
    path = write_scenario(tmp_path / "blend")
    recipes = pd.DataFrame({"pedot": [0.6, 0.5], "dmso": [0.2, 0.3], "eg": [0.1, 0.15], "zonyl": [0.1, 0.05]})
    code, output, out = _eval(tmp_path, recipes, "--scenario-file", str(path))
    assert code == 0, output
    frame = pd.read_csv(out)
    scenario = build_scenario("", 0, scenario_file=path)
    truth = scenario.true_quantities(recipes.to_numpy())
    np.testing.assert_allclose(frame["true_conductivity"], truth["conductivity"])
    np.testing.assert_allclose(frame["true_cost"], 2.0 * recipes["pedot"] + 0.5 * recipes["dmso"]
                               + 0.3 * recipes["eg"] + 4.0 * recipes["zonyl"])
    np.testing.assert_allclose(frame["distance_to_data"], scenario.world.distance_to_data(recipes.to_numpy()))


def test_bad_recipes_one_line_exit_2(tmp_path):
    code, output, out = _eval(tmp_path, P3HT_RECIPES.drop(columns="mwcnt"), "--scenario", "p3ht-cnt")
    assert code == 2 and "missing column 'mwcnt'" in output and not out.exists()
    bad = P3HT_RECIPES.copy()
    bad.loc[1, "l_swcnt"] = 70.0
    code, output, out = _eval(tmp_path, bad, "--scenario", "p3ht-cnt")
    assert code == 2 and "row 2" in output and "l_swcnt=70" in output and not out.exists()
    code, output, _ = _eval(tmp_path, P3HT_RECIPES, "--scenario", "p3ht-cnt", "--scenario-file", "x.yaml")
    assert code == 2 and "not both" in output
    code, output, _ = _eval(tmp_path, P3HT_RECIPES, "--scenario", "nope")
    assert code == 2 and "unknown 'nope'" in output
