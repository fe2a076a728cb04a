"""The Dask sweep: a real local cluster, one row per recipe, the data set written; the CLI's error path."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import ConfigError
from lab.scenarios.electrode.space import draw_recipes, feasible
from lab.scenarios.electrode.sweep import _failed_rows, run_sweep


@pytest.fixture(scope="module")
def scheduler_address():
    """A real local Dask cluster (2 single-threaded worker processes) for the module's sweeps."""
    pytest.importorskip("pybamm")
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_sweep_on_a_dask_cluster_writes_one_row_per_recipe(tmp_path, scheduler_address):
    out = tmp_path / "sweep.csv"
    result = run_sweep(4, seed=7, scheduler=scheduler_address, out=out, chunk_size=2, show_progress=False)
    frame = pd.read_csv(out)
    assert len(frame) == 4 and frame["recipe_id"].tolist() == [0, 1, 2, 3] and (frame["seed"] == 7).all()
    expected = draw_recipes(4, seed=7)
    pd.testing.assert_frame_equal(frame[expected.columns], expected, rtol=1e-5)
    assert feasible(frame).all()
    assert result.n_workers == 2 and result.wall_time_s > 0
    assert sum(result.counts.values()) == 4
    ok = frame[frame["status"] == "ok"]
    assert len(ok) >= 3  # ~1 in 15 random recipes may fail; a failure is a row with its reason
    assert (ok["energy_density"] > 1000).all() and (ok["power_density"] > 0).all()
    assert all(isinstance(reason, str) and reason for reason in frame.loc[frame["status"] != "ok", "failure"])


def test_cli_sweep_on_a_scheduler_address(tmp_path, scheduler_address):
    out = tmp_path / "cli.parquet"
    args = ["p2d", "sweep", "--n", "2", "--seed", "3", "--out", str(out), "--scheduler", scheduler_address, "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "2 recipes" in result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 2 and set(frame["status"]) <= {"ok", "failed"}


def test_a_lost_task_becomes_failed_rows():
    rows = _failed_rows([{"active_material": 94.0, "solid_content": 60.0, "calendering": 5.0}], "task error: boom")
    assert rows == [
        {
            "active_material": 94.0,
            "solid_content": 60.0,
            "calendering": 5.0,
            "status": "failed",
            "failure": "task error: boom",
        }
    ]


def test_sweep_refuses_bad_arguments_before_starting_a_cluster(tmp_path):
    with pytest.raises(ConfigError, match="chunk_size"):
        run_sweep(4, seed=0, chunk_size=0)
    with pytest.raises(ConfigError, match=r"\.csv or \.parquet"):
        run_sweep(4, seed=0, out=tmp_path / "sweep.xlsx")


@pytest.mark.parametrize(
    "args, message",
    [(["--n", "0", "--out", "x.csv"], "--n 0"), (["--n", "3", "--out", "x.txt"], ".csv or .parquet")],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message):
    pytest.importorskip("pybamm")
    result = CliRunner().invoke(app, ["p2d", "sweep", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
