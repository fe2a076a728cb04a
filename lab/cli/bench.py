"""`lab bench`: many simulated campaigns (scenario x strategy x seed) on a Dask cluster, then a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from lab.cli._errors import fail, user_errors
from lab.cli.campaign import _writable_dir
from lab.errors import ConfigError
from lab.scenarios import DEFAULT_SCENARIO, SCENARIOS

if TYPE_CHECKING:
    import pandas as pd


def _names(value: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in value.split(",") if n.strip())


def command(
    scenarios: str = typer.Option(DEFAULT_SCENARIO, help=f"Comma-separated scenario names ({', '.join(SCENARIOS)})."),
    strategies: str = typer.Option("default,random", help="Comma-separated strategies: default, reference, random."),
    seeds: int = typer.Option(3, help="Campaigns (seeds) per scenario and strategy (>= 1)."),
    first_seed: int = typer.Option(0, help="First seed; seeds run are first-seed ... first-seed + seeds - 1."),
    days: int = typer.Option(3, help="Daily cycles per campaign (>= 1)."),
    batch: int = typer.Option(160, help="Samples (films) per day (>= 1)."),
    scheduler: str = typer.Option(
        None, help="Address of an existing Dask scheduler (tcp://host:port); default: a local cluster."
    ),
    workers: int = typer.Option(None, help="Worker processes of the local cluster (default: one per core)."),
    worker_timeout: float = typer.Option(
        300.0, help="Seconds to wait for a worker of --scheduler to join, or to come back when none is left."
    ),
    target: float = typer.Option(0.9, help="Days-to-target threshold: this fraction of the world optimum (0-1]."),
    keep_stores: bool = typer.Option(
        True, help="Keep each campaign's SQLite store in OUT/stores (OUT must be shared with the workers)."
    ),
    out: Path = typer.Option(..., help="Output directory: results.parquet, campaigns/, stores/, report.html."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run every scenario x strategy x seed campaign as one Dask task; write Parquet results and a report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lab.bench import BenchConfig, bench_client, days_to_target_table, run_bench
    from lab.bench.runner import META_FILE
    from lab.reports.bench_report import write_bench_report

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        config = BenchConfig(
            scenarios=_names(scenarios),
            strategies=_names(strategies),
            seeds=seeds,
            first_seed=first_seed,
            days=days,
            batch=batch,
        )
        if workers is not None and scheduler:
            raise ConfigError("--workers: only for the local cluster (not with --scheduler)")
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}")
        if worker_timeout <= 0:
            raise ConfigError(f"--worker-timeout must be > 0 seconds, got {worker_timeout}")
        if not 0.0 < target <= 1.0:
            raise ConfigError(f"--target must be in (0, 1], got {target}")
        out = _writable_dir(out)
        n = len(config.campaigns())
        with bench_client(scheduler, workers, connect_timeout_s=worker_timeout) as client, Progress(
            TextColumn("[bold]campaigns"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
        ) as progress:
            console.print(f"{n} campaigns on {len(client.scheduler_info()['workers'])} Dask worker(s) at {client.scheduler.address}")
            bar = progress.add_task("", total=n, last="")

            def on_done(spec, frame) -> None:
                last = frame.iloc[-1]
                progress.update(bar, advance=1, last=f"{spec.label}: best {last['best_true']:.4g}")

            results = run_bench(
                config, out, client, keep_stores=keep_stores, on_done=on_done, worker_timeout_s=worker_timeout
            )
        meta = json.loads((out / META_FILE).read_text())
        write_bench_report(results, out / "report.html", fraction=target, meta=meta)
        table = days_to_target_table(results, target)
    _print_table(console, table)
    console.print(f"{n} campaigns in {meta['wall_s']:.1f} s on {meta['workers']} worker(s); wrote {out}/results.parquet, report.html")
    if len(results) == 0:
        raise fail("no results")


def _print_table(console: Console, frame: pd.DataFrame) -> None:
    frame = frame[["scenario", "strategy", "target", "reached", "median days to target", "per seed", "final best_true (median)"]]
    table = Table(title="days to target")
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
