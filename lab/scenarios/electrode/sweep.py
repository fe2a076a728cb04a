"""A Dask sweep of P2D simulations over space-filling feasible recipes, written as a data set.

Each Dask task simulates a chunk of recipes with one shared DFN instance (`p2d.simulate_recipes`). By default a
`LocalCluster` runs one single-threaded worker process per core; give `scheduler` (an address such as
``tcp://10.0.0.5:8786``) to use an existing cluster instead. A task that dies (worker lost, unexpected error)
marks its recipes as failed with the reason: the sweep always returns one row per recipe.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lab.errors import ConfigError
from lab.scenarios.electrode.microstructure import MicrostructureConstants
from lab.scenarios.electrode.p2d import P2DSettings, simulate_recipes
from lab.scenarios.electrode.space import draw_recipes

#: Significant digits of floats in the written data set (keeps ~2,000 rows well under 2 MB).
CSV_FLOAT_FORMAT = "%.6g"


@dataclass(frozen=True)
class SweepResult:
    """The data set (one row per recipe, in draw order) and what it cost."""

    frame: pd.DataFrame
    wall_time_s: float
    n_workers: int

    @property
    def counts(self) -> dict[str, int]:
        """Number of rows per status ("ok", "failed", "infeasible")."""
        return {str(k): int(v) for k, v in self.frame["status"].value_counts().items()}


@contextmanager
def _quiet_dask_logs(level: int = logging.WARNING) -> Iterator[None]:
    """Hold the `distributed` loggers at `level` during the sweep (their INFO chatter would bury the progress)."""
    logger = logging.getLogger("distributed")
    old = logger.level
    logger.setLevel(max(level, old))
    try:
        yield
    finally:
        logger.setLevel(old)


def _open_client(stack: ExitStack, scheduler: str | None, n_workers: int | None) -> Any:
    """A client on `scheduler`, or on a new local cluster of single-threaded worker processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return stack.enter_context(Client(scheduler, timeout="20s"))
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    workers = n_workers or os.cpu_count() or 1
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # loopback only: the unauthenticated scheduler never faces a network
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    )
    return stack.enter_context(Client(cluster))


def _failed_rows(chunk: list[dict[str, float]], reason: str) -> list[dict[str, Any]]:
    """Rows for recipes whose task was lost: the recipe, status "failed", the reason."""
    return [{**recipe, "status": "failed", "failure": reason} for recipe in chunk]


def _task_failure(future: Any) -> str:
    """One line saying why a Dask task produced no rows (error, cancelled, worker lost)."""
    if future.status == "error":
        return f"task error: {future.exception()!r}"[:300]
    return f"task {future.status}"


def run_sweep(
    n: int,
    seed: int,
    scheduler: str | None = None,
    *,
    out: str | Path | None = None,
    n_workers: int | None = None,
    chunk_size: int = 4,
    constants: MicrostructureConstants | None = None,
    settings: P2DSettings | None = None,
    show_progress: bool = True,
) -> SweepResult:
    """Simulate `n` feasible space-filling recipes (seeded) on Dask and optionally write the data set.

    Args:
        n: number of recipes (>= 1).
        seed: seed of the recipe draw (`space.draw_recipes`); the simulations are deterministic.
        scheduler: address of a running Dask scheduler; None starts a local cluster.
        out: file to write, CSV or Parquet by suffix (`.csv`, `.parquet`); None writes nothing.
        n_workers: local worker processes (default: one per core); ignored with `scheduler`.
        chunk_size: recipes per Dask task (one DFN build shared inside a task).
        constants: microstructure constants; settings: P2D settings (defaults when None).
        show_progress: draw a rich progress bar on stderr.

    Returns:
        `SweepResult` whose frame has `recipe_id`, `seed`, the recipe, microstructure, performance, objectives,
        `status`, `failure` and `wall_time_s` (per recipe) columns.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size={chunk_size}: must be >= 1")
    if n_workers is not None and n_workers < 1:
        raise ConfigError(f"n_workers={n_workers}: must be >= 1")
    out_path = Path(out) if out is not None else None
    if out_path is not None and out_path.suffix not in (".csv", ".parquet"):
        raise ConfigError(f"--out {out_path}: use a .csv or .parquet file name")
    constants = constants or MicrostructureConstants()
    settings = settings or P2DSettings()
    recipes = draw_recipes(n, seed, constants=constants).to_dict(orient="records")
    chunks = [recipes[i : i + chunk_size] for i in range(0, len(recipes), chunk_size)]
    start = time.perf_counter()
    rows: list[list[dict[str, Any]]] = [[] for _ in chunks]
    with ExitStack() as stack:
        from dask.distributed import as_completed

        stack.enter_context(_quiet_dask_logs())
        client = _open_client(stack, scheduler, n_workers)
        workers = len(client.scheduler_info().get("workers", {})) or (n_workers or 1)
        futures = client.map(simulate_recipes, chunks, constants=constants, settings=settings, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        progress = stack.enter_context(
            Progress(
                TextColumn("P2D sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                disable=not show_progress,
            )
        )
        task = progress.add_task("sweep", total=len(recipes))
        for future in as_completed(futures):
            i = index[future.key]
            if future.status == "finished":
                rows[i] = future.result()
            else:
                rows[i] = _failed_rows(chunks[i], _task_failure(future))
            future.release()
            progress.advance(task, len(chunks[i]))
    frame = pd.DataFrame([row for chunk in rows for row in chunk])
    frame.insert(0, "recipe_id", range(len(frame)))
    frame.insert(1, "seed", seed)
    result = SweepResult(frame, time.perf_counter() - start, workers)
    if out_path is not None:
        write_dataset(frame, out_path)
    return result


def write_dataset(frame: pd.DataFrame, path: Path) -> None:
    """Write the sweep as CSV (6 significant digits) or Parquet, creating the parent folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, float_format=CSV_FLOAT_FORMAT)
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot write ({exc.strerror})") from None
