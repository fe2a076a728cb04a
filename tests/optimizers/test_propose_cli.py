from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lab.cli import app
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace

SPACE_YAML = """
parameters:
  - {name: p3ht, low: 15, high: 96.3}
  - {name: l_swcnt, low: 0, high: 60}
  - {name: s_swcnt, low: 0, high: 70}
constraints:
  - {sum: [p3ht, l_swcnt, s_swcnt], equals: 100}
objectives:
  - {name: conductivity, goal: maximize, scale: log}
  - {name: cost, goal: minimize}
"""

runner = CliRunner()


@pytest.fixture()
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE_YAML)
    return path


def _run(*args: str):
    return runner.invoke(app, ["propose", *args])


def test_empty_observations_give_a_feasible_design(space_file, tmp_path):
    obs = tmp_path / "obs.csv"
    obs.write_text("p3ht,l_swcnt,s_swcnt,conductivity,cost\n")
    out = tmp_path / "next.csv"
    result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "12", "--seed", "3",
                  "--replicates", "3", "--min-volume-ul", "0.5", "--out", str(out))
    assert result.exit_code == 0, result.output
    X = pd.read_csv(out)
    assert list(X.columns) == ["p3ht", "l_swcnt", "s_swcnt"] and len(X) == 12
    assert len(X.drop_duplicates()) == 4
    space = SearchSpace.from_yaml(space_file)
    assert space.is_feasible(X.to_numpy()).all()
    assert ((X.to_numpy() == 0) | (X.to_numpy() >= 0.5 - 1e-9)).all()


def _obs(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "obs.csv"
    frame.to_csv(path, index=False)
    return path


def _good_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    f = rng.dirichlet(np.ones(3), size=6) * 85
    f[:, 0] += 15
    frame = pd.DataFrame(f, columns=["p3ht", "l_swcnt", "s_swcnt"])
    frame["conductivity"] = np.exp(f[:, 1] / 20)
    frame["cost"] = f @ np.array([0.5, 3.0, 2.0])
    return frame


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.drop(columns=["s_swcnt"]), "missing parameter column"),
        (lambda f: f.assign(l_swcnt=f["l_swcnt"].where(f.index != 2, np.nan)), "column 'l_swcnt' row 2 is empty or NaN"),
        (lambda f: f.assign(p3ht=f["p3ht"].astype(object).where(f.index != 1, "lots")), "column 'p3ht' row 1 is not a number"),
        (lambda f: f.assign(cost=f["cost"].astype(object).where(f.index != 0, "cheap")), "column 'cost' row 0 is not a number"),
    ],
)
def test_bad_observations_exit_2_with_one_line(space_file, tmp_path, mutate, message):
    obs = _obs(tmp_path, mutate(_good_frame()))
    result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "4", "--out", str(tmp_path / "n.csv"))
    assert result.exit_code == 2
    err = result.stderr.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in result.output


def test_infeasible_constraints_exit_2(tmp_path):
    space = tmp_path / "bad.yaml"
    space.write_text(SPACE_YAML.replace("equals: 100", "equals: 300"))
    obs = _obs(tmp_path, _good_frame())
    result = _run("--space", str(space), "--observations", str(obs), "--batch", "4", "--out", str(tmp_path / "n.csv"))
    assert result.exit_code == 2 and "infeasible" in result.stderr


def test_unknown_strategy_and_empty_file_exit_2(space_file, tmp_path):
    obs = _obs(tmp_path, _good_frame())
    result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "4", "--strategy", "magic", "--out", str(tmp_path / "n.csv"))
    assert result.exit_code == 2 and "strategy 'magic' is unknown" in result.stderr
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    result = _run("--space", str(space_file), "--observations", str(blank), "--batch", "4", "--out", str(tmp_path / "n.csv"))
    assert result.exit_code == 2 and "is empty" in result.stderr


def _pool_file(tmp_path: Path, mutate=lambda p: p) -> Path:
    f = sample_feasible(SearchSpace.from_dict(yaml.safe_load(SPACE_YAML)), 40, 4)
    pool = pd.DataFrame(f.round(4), columns=["p3ht", "l_swcnt", "s_swcnt"])  # CSV round-off: sums within 1e-4
    pool.insert(0, "vial", [f"V{i:02d}" for i in range(40)])
    pool["note"] = "in stock"
    path = tmp_path / "pool.csv"
    mutate(pool).to_csv(path, index=False)
    return path


def test_candidates_give_pool_rows_with_their_columns(space_file, tmp_path):
    obs = _obs(tmp_path, _good_frame())
    pool = _pool_file(tmp_path)
    out = tmp_path / "next.csv"
    result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "12", "--replicates", "2",
                  "--candidates", str(pool), "--out", str(out))
    assert result.exit_code == 0, result.output
    X = pd.read_csv(out)
    assert list(X.columns) == ["p3ht", "l_swcnt", "s_swcnt", "vial", "note"] and len(X) == 12
    assert X["vial"].nunique() == 6 and (X["note"] == "in stock").all()
    given = pd.read_csv(pool).set_index("vial").loc[X["vial"], ["p3ht", "l_swcnt", "s_swcnt"]].to_numpy()
    np.testing.assert_allclose(X[["p3ht", "l_swcnt", "s_swcnt"]].to_numpy(), given, atol=1e-3)  # polished round-off
    assert "wrote 12 rows (6 distinct recipes)" in result.stdout


def test_candidates_outside_the_space_are_dropped_with_a_warning(space_file, tmp_path, caplog):
    obs = _obs(tmp_path, _good_frame())
    pool = _pool_file(tmp_path, lambda p: p.assign(p3ht=p["p3ht"].where(p.index >= 3, 5.0)))
    out = tmp_path / "next.csv"
    with caplog.at_level("WARNING"):  # the CLI logs warnings to stderr; under pytest, its log capture has them
        result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "37",
                      "--candidates", str(pool), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 of 40 row(s) outside the bounds or constraints dropped" in caplog.text
    assert sorted(pd.read_csv(out)["vial"]) == [f"V{i:02d}" for i in range(3, 40)]


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p.drop(columns=["l_swcnt"]), "candidates: missing parameter column(s) ['l_swcnt']"),
    (lambda p: p.assign(s_swcnt=200.0), "candidates: none of the 40 pool row(s) lies inside the bounds"),
])
def test_bad_candidates_exit_2_with_one_line(space_file, tmp_path, mutate, message):
    obs = _obs(tmp_path, _good_frame())
    result = _run("--space", str(space_file), "--observations", str(obs), "--batch", "4",
                  "--candidates", str(_pool_file(tmp_path, mutate)), "--out", str(tmp_path / "n.csv"))
    assert result.exit_code == 2 and not (tmp_path / "n.csv").exists()
    err = result.stderr.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in result.output
    missing = _run("--space", str(space_file), "--observations", str(obs), "--batch", "4",
                   "--candidates", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "n.csv"))
    assert missing.exit_code == 2 and "--candidates: file" in missing.stderr and "does not exist" in missing.stderr
