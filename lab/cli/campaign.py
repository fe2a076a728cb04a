"""`lab campaign ...`: run, start, resume, stop and inspect campaigns.

Heavy modules (torch, botorch through the runner) are imported inside the commands, so `status` and
`stop` answer at once.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from lab.cli._errors import fail, user_errors
from lab.errors import ConfigError
from lab.scenarios import DEFAULT_SCENARIO, scenario_entries

if TYPE_CHECKING:
    from lab.store.views import DayInfo, ProposalSummary

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


def _execute(out: Path | None, store: str | None, quiet: bool, *, config=None, campaign: str | None = None) -> None:
    """Run a new campaign (`config`) or resume one, with a progress bar; write the outputs; report.

    A new campaign is recorded (`starting`) before the runner and its torch/botorch are imported: a runner
    killed at any moment leaves a campaign `lab campaign resume` carries on.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lab.campaign.selection import select_campaign
    from lab.campaign.session import register_campaign, runner_session

    console = Console(stderr=True, quiet=quiet)
    t0 = time.perf_counter()
    progress = Progress(TextColumn("[bold]day {task.fields[day]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("recipes"), TimeElapsedColumn(), console=console, transient=False)
    tasks: dict[int, int] = {}

    def on_progress(day: int, done: int, total: int) -> None:
        if not tasks:
            progress.start()  # only once a day runs: a refused runner prints nothing but its error
        if day not in tasks:
            tasks[day] = progress.add_task("", total=total, day=day)
        progress.update(tasks[day], completed=done)

    if config is not None and config.prior is not None:
        from lab.campaign.runner import check_prior

        check_prior(config, None)  # a bad prior is refused before the store is made
    try:
        with runner_session(out, store, create=config is not None) as (db, control):
            cid = register_campaign(config, db) if config is not None else \
                select_campaign(db, campaign, unfinished=True).id
            from lab.campaign.runner import resume_campaign  # heavy: torch, botorch, the scenario

            result = resume_campaign(db, cid, on_progress=on_progress, control=control)
    finally:
        if tasks:
            progress.stop()
    _finish(result, out, console, time.perf_counter() - t0)


def _finish(result, out: Path | None, console: Console, seconds: float) -> None:
    from lab.campaign.runner import write_outputs
    from lab.reports.campaign_report import write_campaign_report

    s = result.summary
    where = f"--out {out}" if out is not None else "--store URL"
    if result.status == "stopped":
        console.print(f"stopped cleanly after {s['films']} samples; carry on with `lab campaign resume {where}`")
        return
    if result.status == "awaiting approval":
        day = s["awaiting_approval"]["day"]
        file = f"{out}/day-{day}/proposal.csv" if out is not None else f"day {day}'s proposal (store)"
        console.print(f"day {day} awaits approval: review {file}, then `lab campaign approve {where} "
                      f"[--edited FILE]` or `lab campaign reject {where} [--pin FILE]`", highlight=False)
        return
    scen = result.scenario
    if out is not None:
        write_outputs(result, scen, out)
        write_campaign_report(result.history, result.summary, scen, out / "report.html")
    name = scen.space.objective_names[0]
    best = s["best_true"][name][-1] if s["best_true"][name] else float("nan")
    console.print(
        f"{s['films']} samples ({s['failed']} failed) in {seconds:.1f} s; "
        f"best true {name} {best:.4g} (world optimum {s['world_optimum'][name]:.4g})"
        + (f"; wrote {out}/history.csv, summary.json, report.html" if out is not None else "")
    )
    if s["films"] == 0:
        raise fail("no samples were made")


@app.command("run")
def run(
    scenario: str = typer.Option(DEFAULT_SCENARIO, help="Built-in scenario (`lab scenario list`)."),
    scenario_file: Path = typer.Option(None, help="Scenario file (YAML) of your own material system, instead of --scenario."),
    days: int = typer.Option(2, help="Number of daily cycles (>= 1)."),
    batch: int = typer.Option(160, help="Samples (films) per day (>= 1)."),
    seed: int = typer.Option(0, help="Seed of the world's noise, the stations and the optimizer (>= 0)."),
    out: Path = typer.Option(..., help="Output directory: history.csv, summary.json, report.html, lab.sqlite, lab.log."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (default: a SQLite file in --out)."),
    strategy: str = typer.Option("default", help="Batch strategy: default (large-batch Thompson + hypervolume), reference (sequential qLogNEHVI), random."),
    droplets: int = typer.Option(
        None, help="Samples per recipe (replicates): films cast from one mix, or electrode cells (default: "
        + ", ".join(f"{e.samples_per_recipe} for {e.name}" for e in scenario_entries().values()) + ")."
    ),
    thickness_fraction: float = typer.Option(0.15, help="Share of films whose thickness is measured (0-1); the graph model fills in the rest."),
    thickness_rule: str = typer.Option("per_recipe", help="Which films are profiled: per_recipe (every recipe's first film, then spread to the share) or random."),
    hardware: str = typer.Option(
        "simulated", help="simulated: stations in direct Python; emulated: drivers + emulated instruments; "
        "hardware: drivers on the --hardware-config ports (real instruments or `lab emulate`)."
    ),
    hardware_config: Path = typer.Option(
        None, help="Bench file of --hardware emulated/hardware (default: the shipped drivers/examples/emulated.yaml)."
    ),
    faults: float = typer.Option(
        None, help="--hardware emulated: per-reply fault rate in [0, 1], split over drop/corrupt/alarm/disconnect."
    ),
    name: str = typer.Option(None, help="Campaign name in the store (default: derived from scenario, seed, time)."),
    approval: str = typer.Option("none", help="required: each day waits after its proposal (DIR/day-N/proposal.csv) "
                                 "for `lab campaign approve` or `reject`; none: no review."),
    prior: str = typer.Option(None, help="Past measurements to start from: a CSV in the scenario's columns, or "
                              "another campaign's store URL (a related task: its correlation is learned)."),
    prior_same_process: bool = typer.Option(False, help="Take --prior's rows as data of this very process."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a campaign: propose -> cast -> measure -> store -> refit, each day; then report.

    SIGTERM / Ctrl-C finish the current step and stop cleanly; `lab campaign resume --out DIR` carries on.
    """
    from lab.campaign.config import CampaignConfig

    with user_errors():
        config = CampaignConfig(
            scenario=scenario, scenario_file=str(scenario_file.resolve()) if scenario_file is not None else None,
            days=days, batch=batch, seed=seed, strategy=strategy, droplets_per_recipe=droplets,
            thickness_fraction=thickness_fraction, thickness_rule=thickness_rule, hardware=hardware,
            hardware_config=str(hardware_config) if hardware_config is not None else None, faults=faults, name=name,
            approval=approval, prior=prior if prior is None or "://" in prior else str(Path(prior).resolve()),
            prior_same_process=prior_same_process,
        )
        _execute(_writable_dir(out), store, quiet, config=config)


@app.command("start")
def start(
    config: Path = typer.Option(..., help="Campaign file (YAML): scenario, hardware, batch, days, schedule, ..."),
    out: Path = typer.Option(..., help="Output directory (store, log, history, report)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (default: a SQLite file in --out)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Start a new campaign from a campaign file and run all its days now (`lab serve` follows its schedule)."""
    from lab.campaign.config import load_campaign_config

    with user_errors():
        _execute(_writable_dir(out), store, quiet, config=load_campaign_config(config))


@app.command("resume")
def resume(
    out: Path = typer.Option(None, help="Output directory of the campaign (its lab.sqlite; outputs written there)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only unfinished campaign)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Carry a campaign on after a crash or a stop: each film continues from its state in the store."""
    with user_errors():
        if out is not None and not out.is_dir():
            raise ConfigError(f"--out {out}: no such campaign directory")
        _execute(_writable_dir(out) if out is not None else None, store, quiet, campaign=campaign)


@app.command("status")
def status(
    out: Path = typer.Option(None, help="Output directory of the campaign."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: every campaign of the store)."),
) -> None:
    """Show each campaign's state, its runner, and films per state per day."""
    from lab.campaign.liveness import lock_is_stale
    from lab.campaign.selection import existing_store_url, select_campaign
    from lab.store.status_reader import open_status_reader

    console = Console()
    with user_errors():
        with open_status_reader(existing_store_url(out, store)) as db:
            infos = [select_campaign(db, campaign)] if campaign else db.campaigns()
            for info in infos:
                lock = db.lock_info(info.id)
                runner = "no runner"
                if lock is not None:
                    stale = " (stale: runner gone)" if lock_is_stale(lock, 60.0) else ""
                    runner = f"pid {lock.pid} on {lock.host}, heartbeat {lock.age_s():.0f} s ago{stale}"
                days = db.days(info.id)
                total = info.config.get("days", len(days))
                finished = sum(d.status in ("done", "partial") for d in days)
                console.print(f"[bold]{info.name}[/]  {info.scenario}  [bold]{info.status}[/]  "
                              f"days {finished}/{total}  {runner}", highlight=False)
                console.print(_day_table(db.film_counts(info.id), days, info.route.get("states", [])))
                for d in days:
                    if d.status == "awaiting approval":
                        console.print(_awaiting_line(db.proposal_summary(info.id, d.index), d.index, out),
                                      highlight=False)


def _awaiting_line(latest: ProposalSummary | None, day: int, out: Path | None) -> str:
    """What a day awaiting approval waits for, in one line."""
    if latest is None or latest.status != "pending":
        return f"day {day}: proposal rejected; the runner proposes it again (`lab campaign resume`)"
    where = f" in {out}/day-{day}/proposal.csv" if out is not None else ""
    return (f"day {day} awaits approval: proposal round {latest.round}, {latest.rows} recipe(s){where}; "
            "`lab campaign approve` or `lab campaign reject`")


def _day_table(counts: dict[int, dict[str, int]], days: list[DayInfo], route: list[str]) -> Table:
    """Films per state (the stations' states in route order) for each day."""
    states = ["planned", "cast", *route, "measured", "failed"]
    states += sorted({s for row in counts.values() for s in row} - set(states))
    table = Table("day", "status", *states, "quarantined")
    for d in days:
        row = counts.get(d.index, {})
        table.add_row(str(d.index), d.status, *(str(row[s]) if row.get(s) else "" for s in states),
                      ", ".join(d.quarantined) or "")
    return table


@app.command("stop")
def stop(
    out: Path = typer.Option(None, help="Output directory of the campaign."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only unfinished campaign)."),
    wait: float = typer.Option(0.0, help="Seconds to wait for the runner to stop (0: do not wait)."),
) -> None:
    """Ask the campaign's runner to finish its current step and stop (SIGTERM on this host, and via the store)."""
    from lab.campaign.lock import is_lock_process
    from lab.campaign.selection import select_campaign, store_url_for
    from lab.store import Store

    console = Console()
    with user_errors():
        with Store(store_url_for(out, store), create=False) as db:
            info = select_campaign(db, campaign, unfinished=True)
            lock = db.request_stop(info.id)
            if lock is None:
                console.print(f"{info.name}: no runner holds it (status {info.status})")
                return
            if lock.host == socket.gethostname():
                if not is_lock_process(lock):  # the runner is gone (its pid may belong to another process now)
                    console.print(f"{info.name}: its lock is stale (pid {lock.pid} is not its runner); nothing to stop")
                    return
                os.kill(lock.pid, signal.SIGTERM)
            console.print(f"{info.name}: asked pid {lock.pid} on {lock.host} to stop after its current step")
            deadline = time.monotonic() + wait
            while wait > 0 and time.monotonic() < deadline:
                if db.lock_info(info.id) is None:
                    console.print(f"{info.name}: stopped")
                    return
                time.sleep(0.2)
            if wait > 0:
                raise fail(f"{info.name}: the runner did not stop within {wait:g} s")


@app.command("plan")
def plan(
    out: Path = typer.Option(None, help="Output directory of the campaign."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only unfinished campaign)."),
) -> None:
    """Dry-run the next day: print its steps with recipes and substrate positions; move nothing, write nothing."""
    from lab.campaign.plan import Measure, describe_step
    from lab.campaign.runner import plan_next_day
    from lab.campaign.selection import select_campaign, store_url_for
    from lab.store import Store

    console = Console()
    with user_errors():
        url = store_url_for(out, store)
        with Store(url, read_only=True) as db:
            info = select_campaign(db, campaign, unfinished=True)
            steps = plan_next_day(db, info.id)
    if not steps:
        console.print(f"{info.name}: every day is finished; nothing to plan", highlight=False)
        return
    measures = sum(isinstance(s, Measure) for s in steps)
    console.print(f"[bold]{info.name}[/]: {len(steps)} steps ({measures} readings); dry run, nothing moved or written",
                  highlight=False)
    for step in steps:
        console.print(describe_step(step), highlight=False, markup=False)


@app.command("check")
def check(
    out: Path = typer.Option(None, help="Output directory of the campaign."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
) -> None:
    """Check the store's integrity (recipes, states, measurements, orphans, days); exit 1 on any problem."""
    from lab.campaign.selection import store_url_for
    from lab.store import Store
    from lab.store.integrity import check_integrity

    console = Console()
    with user_errors():
        with Store(store_url_for(out, store), create=False) as db:
            report = check_integrity(db)
    for line in report.problems:
        console.print(f"problem: {line}", highlight=False)
    console.print(f"checked {report.checked}: {len(report.problems)} problem(s)", highlight=False)
    if report.problems:
        raise typer.Exit(code=1)
