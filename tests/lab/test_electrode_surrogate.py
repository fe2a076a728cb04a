"""The graph-GP surrogate of the P2D world, fitted on (part of) the shipped sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from lab.errors import ConfigError
from lab.scenarios.electrode.surrogate import P2DSurrogate, default_dataset_path, validate_surrogate


@pytest.fixture(scope="module")
def sweep():
    path = default_dataset_path()
    assert path.exists(), f"the shipped data set {path} is missing"
    return pd.read_csv(path)


def test_shipped_sweep_has_the_card_columns(sweep):
    for column in (
        "recipe_id",
        "seed",
        "active_material",
        "solid_content",
        "calendering",
        "porosity",
        "thickness_um",
        "loading_mg_cm2",
        "energy_density",
        "power_density",
        "status",
        "failure",
        "wall_time_s",
    ):
        assert column in sweep.columns, column
    assert len(sweep) >= 1000
    assert set(sweep["status"]) <= {"ok", "failed", "infeasible"}
    ok = sweep[sweep["status"] == "ok"]
    assert len(ok) >= 0.9 * len(sweep)
    assert ok["energy_density"].between(850, 1500).all() and ok["power_density"].gt(0).all()
    assert ok["utilisation_high"].median() >= 0.3  # the high rate (4C) is one the median cell still delivers at


def test_small_surrogate_predicts_held_out_recipes(sweep):
    ok = sweep[sweep["status"] == "ok"].reset_index(drop=True)
    train, test = ok.iloc[:60], ok.iloc[60:120]
    surrogate = P2DSurrogate(max_train_rows=60, max_fit_rows=60).fit(train)
    predicted = surrogate.predict(test[["active_material", "solid_content", "calendering"]])
    assert list(predicted.columns) == ["energy_density", "power_density", "utilisation_high"] and len(predicted) == len(test)
    assert r2_score(test["energy_density"], predicted["energy_density"]) > 0.98
    assert r2_score(np.log(test["power_density"]), np.log(predicted["power_density"])) > 0.98
    assert surrogate.n_train_rows_ == 60


def test_surrogate_refuses_misuse(sweep):
    with pytest.raises(ConfigError, match="not fitted"):
        P2DSurrogate().predict(sweep.head(3))
    with pytest.raises(ConfigError, match="at least 10"):
        P2DSurrogate().fit(sweep.head(5))
    with pytest.raises(ConfigError, match="missing column"):
        P2DSurrogate()._frame(sweep[["active_material"]])
    with pytest.raises(ConfigError, match="--seed"):
        validate_surrogate(4, seed=int(sweep["seed"].iloc[0]), data=sweep)


def test_cli_validate_writes_scores(tmp_path, sweep):
    pytest.importorskip("pybamm")
    import json

    from typer.testing import CliRunner

    from lab.cli import app

    small = tmp_path / "small.csv"
    sweep[sweep["status"] == "ok"].head(40).to_csv(small, index=False)
    out = tmp_path / "scores.json"
    args = ["p2d", "validate", "--n", "2", "--seed", "100", "--json", str(out), "--data", str(small)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert set(scores["r2"]) == {"energy_density", "power_density", "utilisation_high"}
    assert scores["n"] == 2 and scores["n_train"] == 40 and scores["speedup"] > 10
