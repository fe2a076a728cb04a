"""Bad files and tables give one line and exit 2, never a traceback (audit finding 13); one objective works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli import app
from optimizers.propose import propose
from optimizers.search_space import SearchSpace

runner = CliRunner()
SPACE = """parameters:
  - {name: x1, low: 0, high: 100}
  - {name: x2, low: 0, high: 100}
constraints:
  - {sum: [x1, x2], %s}
objectives:
  - {name: y, goal: maximize}
"""
OBS = "x1,x2,y\n50,50,1\n30,70,2\n20,80,1.5\n"


def _propose(tmp_path: Path, space: str | bytes, obs: str | bytes | None) -> tuple[int, str]:
    sp, ob = tmp_path / "space.yaml", tmp_path / "obs.csv"
    (sp.write_bytes if isinstance(space, bytes) else sp.write_text)(space)
    if obs is not None:
        (ob.write_bytes if isinstance(obs, bytes) else ob.write_text)(obs)
    target = ob if obs is not None else tmp_path
    r = runner.invoke(app, ["propose", "--space", str(sp), "--observations", str(target), "--batch", "2",
                            "--out", str(tmp_path / "next.csv")])
    return r.exit_code, r.stderr


@pytest.mark.parametrize("space, obs, says", [
    (b"\xff\xfe\x00\x81 binary", OBS, "not a text file"),
    (SPACE % "equals: 100", None, "is a directory"),
    (SPACE % "equals: 100", "x1, x1,y\n50,50,1\n", "column 'x1' appears 2 times"),
    (SPACE % "equals: 100", "x1,x2,x1,y\n50,50,3,1\n", "column 'x1' appears 2 times"),
    (SPACE % "at_most: .nan", OBS, "bound must be a finite number"),
    (SPACE % "weights: [.inf, 1], at_most: 100", OBS, "weights must be finite"),
    (SPACE.replace("low: 0, high: 100", "low: -1e308, high: 1e308") % "at_most: 100", OBS, "bounds must lie within"),
    (SPACE % "equals: 100", b"\xc1\xff,binary\n\x00\x01", "not a readable CSV"),
    (SPACE % "equals: 100", "x1,x2,y\n400,60,1\n", "lie outside the bounds or constraints"),
])
def test_bad_input_is_one_line(tmp_path: Path, space, obs, says: str) -> None:
    code, err = _propose(tmp_path, space, obs)
    assert code == 2, err
    assert says in err and err.count("\n") == 1


def test_a_row_outside_the_mixture_is_excluded_with_a_warning(tmp_path: Path, caplog) -> None:
    space = SearchSpace.from_dict({"parameters": [{"name": "x1", "low": 0, "high": 100}, {"name": "x2", "low": 0, "high": 100}],
                                   "constraints": [{"sum": ["x1", "x2"], "equals": 100}],
                                   "objectives": [{"name": "y"}]})
    obs = pd.DataFrame({"x1": [400.0, 30, 20, 60], "x2": [60.0, 70, 80, 40], "y": [9.0, 2, 1.5, 1]})
    X = propose(space, obs, 2, seed=0)
    assert "1 row(s) outside the bounds or constraints excluded" in caplog.text
    assert np.allclose(X.sum(axis=1), 100)


@pytest.mark.parametrize("batch", [1, 4, 8, 160])
@pytest.mark.parametrize("failures", [False, True])
def test_one_objective_at_every_batch_size(batch: int, failures: bool) -> None:
    space = SearchSpace.from_dict({"parameters": [{"name": f"x{i}", "low": 0, "high": 1} for i in range(3)],
                                   "constraints": [{"sum": ["x0", "x1", "x2"], "equals": 1}],
                                   "objectives": [{"name": "y", "goal": "minimize"}]})
    rng = np.random.default_rng(0)
    X = rng.dirichlet(np.ones(3), size=12)
    obs = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    obs["y"] = (X[:, 0] - 0.3) ** 2 + X[:, 1]
    if failures:
        obs["status"] = ["failed" if i % 4 == 0 else "measured" for i in range(12)]
        obs.loc[obs["status"] == "failed", "y"] = np.nan
    out = propose(space, obs, batch, seed=1)
    assert out.shape == (batch, 3) and space.is_feasible(out.to_numpy()).all()
