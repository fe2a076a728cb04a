"""Run a benchmark on Dask: one task per campaign, results written as each campaign finishes.

The client is either a local cluster of single-threaded worker processes or an existing cluster
(`dask scheduler` + `dask worker`, or dask-jobqueue on Slurm) reached by its scheduler address.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
from distributed import Client, Future, LocalCluster, wait

from lab.bench.config import BenchConfig, CampaignSpec
from lab.bench.results import sort_results, write_campaign_results, write_results
from lab.bench.tasks import run_campaign_task
from lab.errors import BenchError

#: Called in the client process when a campaign finishes: (campaign, its per-day rows).
DoneCallback = Callable[[CampaignSpec, pd.DataFrame], None]
STORES_DIR = "stores"
META_FILE = "bench.json"
#: Where a local Dask cluster listens (scheduler, workers, dashboard). Clusters across machines: see Dask's
#: TLS/security options (`distributed.security.Security`), never an open scheduler on 0.0.0.0.
LOOPBACK = "127.0.0.1"


@contextmanager
def bench_client(
    scheduler: str | None = None, workers: int | None = None, *, connect_timeout_s: float = 300.0
) -> Iterator[Client]:
    """A Dask client: of the cluster at `scheduler`, or of a new local cluster of `workers` processes.

    The local cluster has one thread per worker process (`workers` defaults to the number of cores);
    an existing cluster must get at least one worker within `connect_timeout_s`.
    """
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{min(connect_timeout_s, 60.0)}s")
        except (OSError, TimeoutError) as exc:
            raise BenchError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=connect_timeout_s)
            except TimeoutError:
                raise BenchError(f"--scheduler {scheduler}: no worker joined within {connect_timeout_s:g} s") from None
            yield client
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise BenchError(f"--workers must be >= 1, got {n}")
    cluster = LocalCluster(  # on loopback only: an unauthenticated scheduler and dashboard never face a network
        n_workers=n, threads_per_worker=1, processes=True, host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
        silence_logs=logging.ERROR,
    )
    with cluster:
        with Client(cluster) as client:
            yield client


def run_bench(
    config: BenchConfig,
    out_dir: Path,
    client: Client,
    *,
    keep_stores: bool = True,
    on_done: DoneCallback | None = None,
    worker_timeout_s: float = 300.0,
) -> pd.DataFrame:
    """Run every campaign of `config` as one task on `client`; write and return the per-day rows.

    Writes `out_dir/campaigns/<campaign>.parquet` as each campaign finishes, `out_dir/results.parquet`
    (every row, canonical order) and `out_dir/bench.json` (configuration, workers, wall time) at the
    end; with `keep_stores`, each campaign's store is `out_dir/stores/<campaign>.sqlite`, written by
    the worker (so `out_dir` must be on a file system the workers share).

    Raises:
        BenchError: a campaign failed, or the cluster had no worker for `worker_timeout_s` (the other
            campaigns are cancelled; the finished ones are already on disk).
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = config.campaigns()
    run_id = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    futures = {
        client.submit(
            run_campaign_task,
            spec,
            str(out_dir / STORES_DIR / f"{spec.slug}.sqlite") if keep_stores else None,
            key=f"campaign-{spec.slug}-{run_id}",
            pure=False,
        ): spec
        for spec in specs
    }
    frames = []
    try:
        for spec, frame in _as_completed(client, futures, worker_timeout_s):
            write_campaign_results(frame, spec, out_dir)
            frames.append(frame)
            if on_done:
                on_done(spec, frame)
    finally:
        client.cancel([f for f in futures if not f.done()])
    results = sort_results(pd.concat(frames, ignore_index=True))
    write_results(results, out_dir)
    meta = {
        "config": config.model_dump(mode="json"),
        "campaigns": len(specs),
        "workers": len(client.scheduler_info().get("workers", {})),
        "scheduler": client.scheduler.address,
        "wall_s": time.perf_counter() - started,
    }
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2))
    return results


def _as_completed(
    client: Client, futures: dict[Future, CampaignSpec], worker_timeout_s: float, poll_s: float = 2.0
) -> Iterator[tuple[CampaignSpec, pd.DataFrame]]:
    """Yield (campaign, rows) as campaigns finish; fail fast on a task error or a cluster without workers.

    Dask re-runs the tasks of a worker that dies, but tasks wait forever when every worker is gone,
    so the cluster is watched while nothing finishes.
    """
    pending = set(futures)
    alone_since: float | None = None
    while pending:
        try:
            done, pending = wait(pending, timeout=poll_s, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for future in done:
            spec = futures[future]
            try:
                frame = future.result()
            except Exception as exc:  # a worker's failure, re-raised here by Dask
                raise BenchError(f"campaign {spec.label} failed: {type(exc).__name__}: {exc}") from exc
            yield spec, frame
        if done or client.scheduler_info(n_workers=-1).get("workers"):
            alone_since = None
            continue
        alone_since = alone_since or time.monotonic()
        if time.monotonic() - alone_since > worker_timeout_s:
            raise BenchError(
                f"no Dask worker for {worker_timeout_s:g} s ({len(pending)} campaigns unfinished); "
                "see the workers' logs (a worker that cannot import `lab` dies on its first task)"
            )
