"""Simulated campaigns at scale: many (scenario, strategy, seed) campaigns as Dask tasks, then a report.

`BenchConfig` says what to run, `run_bench` runs it on a `dask.distributed` client (one task per
campaign, `run_campaign_task`), and `lab.bench.results` reads and summarises the per-day Parquet files.
"""

from __future__ import annotations

from lab.bench.config import BENCH_STRATEGIES, BenchConfig, CampaignSpec
from lab.bench.results import RESULT_COLUMNS, days_to_target, days_to_target_table, read_results
from lab.bench.runner import bench_client, run_bench
from lab.bench.tasks import run_campaign_task

__all__ = [
    "BENCH_STRATEGIES",
    "BenchConfig",
    "CampaignSpec",
    "RESULT_COLUMNS",
    "bench_client",
    "days_to_target",
    "days_to_target_table",
    "read_results",
    "run_bench",
    "run_campaign_task",
]
