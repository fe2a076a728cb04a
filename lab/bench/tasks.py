"""The Dask task of a benchmark: run one campaign in its own store and return its per-day rows.

A pure function of its arguments: the same `CampaignSpec` gives the same numbers (but `wall_s`) on
any worker, whatever ran there before and however many threads the worker has.
"""

from __future__ import annotations

import random
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from lab.bench.config import CampaignSpec
from lab.bench.results import campaign_frame
from lab.campaign.runner import run_campaign
from lab.store import Store, sqlite_url


def run_campaign_task(spec: CampaignSpec, store_path: str | None = None) -> pd.DataFrame:
    """Run the campaign `spec` end to end and return its per-day rows (`lab.bench.results` columns).

    Args:
        spec: scenario, strategy, seed, days and batch of the campaign.
        store_path: SQLite file of the campaign's store, replaced if it exists (the directory must be
            writable from the worker); `None` keeps the store in a temporary directory on the worker.
    """
    config = spec.campaign_config()
    with _single_threaded(), _seeded_global_rngs(spec.seed), _store(store_path) as store:
        result = run_campaign(config, store)
    return campaign_frame(spec, result.summary)


@contextmanager
def _store(store_path: str | None) -> Iterator[Store]:
    """A fresh SQLite store at `store_path`, or in a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp:
        path = Path(store_path) if store_path is not None else Path(tmp) / "lab.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        with Store(sqlite_url(path)) as store:
            yield store


@contextmanager
def _single_threaded() -> Iterator[None]:
    """One thread for torch and the BLAS libraries, so floating-point reductions never depend on the worker.

    Restores the previous settings (a worker thread inside the caller's process must leave it as found).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _seeded_global_rngs(seed: int) -> Iterator[None]:
    """Seed the global torch, numpy and `random` generators from the campaign's seed, then restore them.

    The campaign seeds its own generators; this protects against a library that draws from a global
    generator, whose state would otherwise depend on the tasks a worker ran before.
    """
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
