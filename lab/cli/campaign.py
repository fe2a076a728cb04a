"""`lab campaign ...`: run simulated campaigns end to end."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lab.campaign.config import CampaignConfig
from lab.campaign.runner import run_campaign, write_outputs
from lab.cli._errors import fail, user_errors
from lab.errors import ConfigError
from lab.reports.campaign_report import write_campaign_report
from lab.scenarios import build_scenario
from lab.store import Store, sqlite_url

app = typer.Typer(help="Run and inspect campaigns.", no_args_is_help=True)


def _writable_dir(out: Path) -> Path:
    """Create `out` if needed and prove it is writable, before anything else is written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--out {out}: directory is not writable ({exc.strerror})") from None
    return out


@app.command("run")
def run(
    scenario: str = typer.Option("p3ht-cnt", help="Scenario: p3ht-cnt."),
    days: int = typer.Option(2, help="Number of daily cycles (>= 1)."),
    batch: int = typer.Option(160, help="Samples (films) per day (>= 1)."),
    seed: int = typer.Option(0, help="Seed of the world's noise, the stations and the optimizer (>= 0)."),
    out: Path = typer.Option(..., help="Output directory: history.csv, summary.json, report.html, lab.sqlite."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (default: a SQLite file in --out)."),
    strategy: str = typer.Option("thompson", help="Batch strategy: thompson or random."),
    droplets: int = typer.Option(6, help="Films cast from one mix (replicates per recipe)."),
    thickness_fraction: float = typer.Option(1.0, help="Share of films whose thickness is measured (0-1)."),
    hardware: str = typer.Option(
        "simulated", help="simulated: stations in direct Python; emulated: drivers + emulated instruments."
    ),
    hardware_config: Path = typer.Option(
        None, help="Bench file of --hardware emulated (default: the shipped drivers/examples/emulated.yaml)."
    ),
    faults: float = typer.Option(
        None, help="--hardware emulated: per-reply fault rate in [0, 1], split over drop/corrupt/alarm/disconnect."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a simulated campaign: propose -> cast -> measure -> store -> refit, each day; then report."""
    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        config = CampaignConfig(
            scenario=scenario,
            days=days,
            batch=batch,
            seed=seed,
            strategy=strategy,
            droplets_per_recipe=droplets,
            thickness_fraction=thickness_fraction,
            hardware=hardware,
            hardware_config=str(hardware_config) if hardware_config is not None else None,
            faults=faults,
        )
        out = _writable_dir(out)
        db = Store(store or sqlite_url(out / "lab.sqlite"))
        scen = build_scenario(
            config.scenario, config.seed, config.thickness_fraction, config.hardware, config.hardware_config, config.faults
        )
        t0 = time.perf_counter()
        with db, closing(scen), Progress(
            TextColumn("[bold]day {task.fields[day]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("recipes"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            tasks: dict[int, int] = {}

            def on_progress(day: int, done: int, total: int) -> None:
                if day not in tasks:
                    tasks[day] = progress.add_task("", total=total, day=f"{day}/{config.days}")
                progress.update(tasks[day], completed=done)

            result = run_campaign(config, db, scenario=scen, on_progress=on_progress)
        write_outputs(result, scen, out)
        write_campaign_report(result.history, result.summary, scen, out / "report.html")
    s = result.summary
    name = scen.space.objective_names[0]
    console.print(
        f"{s['films']} samples ({s['failed']} failed) in {time.perf_counter() - t0:.1f} s; "
        f"best true {name} {s['best_true'][name][-1]:.4g} (world optimum {s['world_optimum'][name]:.4g}); "
        f"wrote {out}/history.csv, summary.json, report.html"
    )
    if s["films"] == 0:
        raise fail("no samples were made")
