"""`lab bench`: the same seeds give the same numbers on one worker, two local processes, or an external cluster.

Runs a tiny benchmark (p3ht-cnt, random + default, 2 seeds, 2 days of 18 films (3 recipes: the graph model needs 3)) three times: on a local
cluster of two single-threaded processes, on one in-process worker, and through the CLI on a
`dask scheduler` with two `dask worker` subprocesses started here (and always stopped here).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from typer.testing import CliRunner

from lab.bench import BenchConfig, bench_client, days_to_target, days_to_target_table, read_results, run_bench
from lab.bench.results import RESULT_COLUMNS, TIMING_COLUMNS
from lab.cli import app
from lab.errors import BenchError

REPO = Path(__file__).resolve().parents[2]
CONFIG = BenchConfig(scenarios=("p3ht-cnt",), strategies=("random", "default"), seeds=2, days=2, batch=18)
CLI_ARGS = ["--scenarios", "p3ht-cnt", "--strategies", "random,default", "--seeds", "2", "--days", "2", "--batch", "18"]


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING_COLUMNS)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The tiny benchmark on a local cluster of two single-threaded worker processes."""
    out = tmp_path_factory.mktemp("local")
    with bench_client(None, workers=2) as client:
        return out, run_bench(CONFIG, out, client)


def test_local_cluster_writes_every_campaign_and_day(local_run):
    out, frame = local_run
    assert set(RESULT_COLUMNS) <= set(frame.columns)
    assert len(frame) == 2 * 2 * 2  # strategies x seeds x days
    assert sorted(p.name for p in (out / "campaigns").glob("*.parquet")) == [
        "p3ht-cnt_default_seed0.parquet", "p3ht-cnt_default_seed1.parquet",
        "p3ht-cnt_random_seed0.parquet", "p3ht-cnt_random_seed1.parquet",
    ]
    assert len(list((out / "stores").glob("*.sqlite"))) == 4
    pd.testing.assert_frame_equal(read_results(out), frame)
    for _, runs in frame.groupby(["strategy", "seed"]):
        assert np.all(np.diff(runs["best_true"]) >= 0)  # best so far never gets worse
        assert np.all(np.diff(runs["hypervolume"]) >= -1e-12)
    np.testing.assert_allclose(frame["regret"], frame["world_optimum"] - frame["best_true"])
    assert (frame["wall_s"] > 0).all() and (frame["hypervolume"] > 0).all()
    # the strategies and seeds really differ
    first = frame[frame["day"] == 1].set_index(["strategy", "seed"])["best_true"]
    assert first.nunique() == 4


def test_one_in_process_worker_gives_the_same_numbers(local_run, tmp_path):
    _, two_processes = local_run
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        one_worker = run_bench(CONFIG, tmp_path, client, keep_stores=False)
    assert not (tmp_path / "stores").exists()
    pd.testing.assert_frame_equal(_numbers(one_worker), _numbers(two_processes), check_exact=True)


def test_a_failing_campaign_names_itself_and_keeps_finished_results_out_of_the_way(tmp_path):
    (tmp_path / "stores").write_text("not a directory")  # every task fails before its campaign starts
    config = BenchConfig(strategies=("random",), seeds=1, days=1, batch=6)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        with pytest.raises(BenchError, match="campaign p3ht-cnt / random / seed 0 failed: FileExistsError"):
            run_bench(config, tmp_path, client)
    assert not (tmp_path / "results.parquet").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_cli() -> str | None:
    beside = Path(sys.executable).parent / "dask"
    return str(beside) if beside.exists() else shutil.which("dask")


@pytest.fixture
def dask_cluster(tmp_path, request) -> str:
    """`dask scheduler` and two `dask worker` subprocesses on 127.0.0.1; killed at the end, whatever happens."""
    dask = _dask_cli()
    if dask is None:
        pytest.skip("the dask command line (dask scheduler / dask worker) is not installed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    procs: list[subprocess.Popen] = []

    def stop() -> None:
        for proc in reversed(procs):  # workers first, then the scheduler
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)

    request.addfinalizer(stop)
    log = open(tmp_path / "dask.log", "w")
    request.addfinalizer(log.close)
    port = address.rsplit(":", 1)[1]
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"]] + [
        [dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
         "--local-directory", str(tmp_path / f"worker{i}")]
        for i in range(2)
    ]
    for command in commands:  # each in its own process group, so the nanny's worker process goes too
        procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                                      start_new_session=True))
    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
    return address


def test_cli_on_an_external_cluster_gives_the_same_numbers(local_run, dask_cluster, tmp_path):
    _, local = local_run
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["bench", *CLI_ARGS, "--scheduler", dask_cluster, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "bench.json").read_text())
    assert meta["workers"] == 2 and meta["campaigns"] == 4 and meta["scheduler"] == dask_cluster
    pd.testing.assert_frame_equal(_numbers(read_results(out)), _numbers(local), check_exact=True)
    report = (out / "report.html").read_text()
    assert "Days to target" in report and "data:image/png;base64" in report and "http" not in report.split("<body>")[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategies", "default,greedy"], "greedy"),
        (["--scenarios", "graphene"], "graphene"),
        (["--seeds", "0"], "seeds"),
        (["--days", "0"], "days"),
        (["--workers", "0"], "--workers"),
        (["--target", "1.5"], "--target"),
        (["--worker-timeout", "0"], "--worker-timeout"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result = CliRunner().invoke(app, ["bench", *args, "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_unreachable_scheduler_exits_2(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    result = CliRunner().invoke(
        app, ["bench", "--scheduler", address, "--worker-timeout", "2", "--out", str(tmp_path / "out"), "--quiet"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --scheduler {address}: cannot connect") and result.stderr.count("\n") == 1


def _frame(best: dict[tuple[str, int], list[float]], optimum: float = 100.0) -> pd.DataFrame:
    rows = [
        {"scenario": "s", "strategy": strategy, "seed": seed, "day": day, "batch": 6, "objective": "y",
         "best_true": b, "regret": optimum - b, "world_optimum": optimum, "hypervolume": b / optimum, "wall_s": 1.0}
        for (strategy, seed), values in best.items()
        for day, b in enumerate(values, start=1)
    ]
    return pd.DataFrame(rows)


def test_days_to_target_counts_the_first_day_within_the_fraction():
    frame = _frame({("a", 0): [50, 89, 90, 95], ("a", 1): [91, 91, 91, 91], ("a", 2): [10, 20, 30, 40],
                    ("b", 0): [10, 20, 30, 40], ("b", 1): [10, 95, 95, 95], ("b", 2): [0, 0, 0, 0]})
    per = days_to_target(frame, 0.9).set_index(["strategy", "seed"])["days"]
    assert per[("a", 0)] == 3 and per[("a", 1)] == 1 and per[("a", 2)] is pd.NA and per[("b", 1)] == 2
    table = days_to_target_table(frame, 0.9).set_index("strategy")
    assert table.loc["a", "reached"] == "2/3" and table.loc["a", "median days to target"] == "3"
    assert table.loc["b", "median days to target"] == "not reached"  # 2 of 3 seeds never got there
    assert table.loc["b", "per seed"] == "not reached, 2, not reached"
    assert table.loc["a", "target"] == "y >= 90"


def test_the_local_cluster_listens_on_loopback_only() -> None:
    """Audit finding 14: the bench's scheduler and dashboard were reachable on every interface."""
    from lab.bench.runner import bench_client

    with bench_client(workers=1) as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert client.dashboard_link.startswith("http://127.0.0.1:")
        assert all(w.startswith("tcp://127.0.0.1:") for w in client.scheduler_info()["workers"])
