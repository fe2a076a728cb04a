"""Campaigns that draw from a list: `candidates:` in a scenario file (a CSV relative to the file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from lab.cli import app
from lab.scenarios import builtin_spec
from optimizers.sampling import sample_feasible
from tests.lab.scenario_files import COMPONENTS, blend_scenario, write_scenario

runner = CliRunner()


def _write_pool(path: Path, space, n: int, seed: int = 1, **columns) -> pd.DataFrame:
    path.parent.mkdir(parents=True, exist_ok=True)
    pool = pd.DataFrame(sample_feasible(space, n, seed), columns=space.names)
    pool["stock_id"] = [f"S{i:03d}" for i in range(n)]
    for name, values in columns.items():
        pool[name] = values
    pool.to_csv(path, index=False)
    return pool


def _made(history: pd.DataFrame, names: list[str]) -> np.ndarray:
    return history.drop_duplicates("recipe_id" if "recipe_id" in history else names)[names].to_numpy(dtype=float)


def _match(made: np.ndarray, pool: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Index of the pool row each made recipe is (asserting it is one, to polishing round-off)."""
    P = pool[names].to_numpy(dtype=float)
    d = np.abs(made[:, None, :] - P[None, :, :]).max(axis=-1)
    assert d.min(axis=1).max() < 1e-6, d.min(axis=1)
    return d.argmin(axis=1)


def test_file_scenario_campaign_draws_every_recipe_from_its_pool(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, candidates="stocks/pool.csv")
    from lab.scenarios.spec import load_scenario_file

    space = load_scenario_file(scenario).search_space
    pool = _write_pool(tmp_path / "stocks" / "pool.csv", space, 60)
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(scenario), "--days", "3", "--batch", "12",
                                 "--seed", "0", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    history = pd.read_csv(out / "history.csv")
    made = history.drop_duplicates(["day", *COMPONENTS])[list(COMPONENTS)].to_numpy(dtype=float)
    rows = _match(made, pool, list(COMPONENTS))
    assert len(made) == 9 and len(set(rows.tolist())) == 9  # 3 recipes a day, never one made before


def test_builtin_world_file_with_a_pool_and_random_strategy(tmp_path: Path) -> None:
    content = builtin_spec("p3ht_cnt").model_dump(mode="json", by_alias=True, exclude={"source_dir"}, exclude_none=True)
    content |= {"name": "p3ht-stocks", "candidates": "pool.csv"}
    scenario = tmp_path / "p3ht.yaml"
    scenario.write_text(yaml.safe_dump(content, sort_keys=False))
    space = builtin_spec("p3ht_cnt").search_space
    pool = _write_pool(tmp_path / "pool.csv", space, 30, seed=2)
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(scenario), "--days", "2", "--batch", "12",
                                 "--seed", "0", "--strategy", "random", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    names = space.names
    made = pd.read_csv(out / "history.csv").drop_duplicates(["day", *names])[names].to_numpy(dtype=float)
    assert len(made) == 4 and len(set(_match(made, pool, names).tolist())) == 4


def test_a_pool_missing_a_parameter_column_is_refused_before_anything_runs(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, candidates="pool.csv")
    pd.DataFrame({"pedot": [0.5], "dmso": [0.3], "eg": [0.2]}).to_csv(tmp_path / "pool.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(scenario), "--days", "1", "--batch", "4",
                                 "--out", str(out), "-q"])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and "candidates (pool.csv): missing parameter column(s) ['zonyl']" in err
    assert not (out / "history.csv").exists()


def test_scenario_spec_resolves_the_pool_next_to_the_file(tmp_path: Path) -> None:
    from lab.scenarios.spec import parse_scenario

    spec = parse_scenario(blend_scenario() | {"candidates": "lists/a.csv"}, "x.yaml", tmp_path)
    assert spec.candidates_path() == tmp_path / "lists" / "a.csv"
    assert parse_scenario(blend_scenario(), "x.yaml", tmp_path).candidate_table() is None
