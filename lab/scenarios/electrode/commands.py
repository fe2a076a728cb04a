"""`lab p2d ...`: P2D (PyBaMM) simulations of electrode recipes, run as Dask sweeps.

A command group of the scenario, mounted by `lab.cli` through the registry entry's `commands`; `lab.cli` turns
the user errors the commands raise into one line on stderr and exit code 2. Imported whenever `lab` starts, so
it stays light: PyBaMM, Dask and the world are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lab.errors import ConfigError

app = typer.Typer(help="Electrode world: P2D (PyBaMM) simulations and sweeps.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Electrode world: P2D (PyBaMM) simulations and sweeps."""


@app.command("sweep")
def sweep(
    n: int = typer.Option(..., "--n", help="Number of feasible recipes to simulate (>= 1)."),
    out: Path = typer.Option(..., "--out", help="Data set to write: .csv or .parquet."),
    seed: int = typer.Option(0, "--seed", help="Seed of the space-filling recipe draw."),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address (default: a local cluster)."),
    workers: int = typer.Option(None, "--workers", help="Local worker processes (default: one per core)."),
    chunk_size: int = typer.Option(4, "--chunk-size", help="Recipes per Dask task."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Simulate N space-filling feasible recipes at 1C and 5C on Dask and write one row per recipe."""
    if n < 1:
        raise ConfigError(f"--n {n}: must be >= 1")
    from lab.scenarios.electrode.p2d import import_pybamm
    from lab.scenarios.electrode.sweep import run_sweep

    import_pybamm()  # fail early, with the pip command, when the [p2d] extra is missing
    result = run_sweep(
        n, seed, scheduler, out=out, n_workers=workers, chunk_size=chunk_size, show_progress=not quiet
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
    typer.echo(
        f"wrote {out}: {len(result.frame)} recipes ({counts}) in {result.wall_time_s:.1f} s "
        f"on {result.n_workers} worker(s)"
    )


@app.command("validate")
def validate(
    n: int = typer.Option(50, "--n", help="Fresh recipes to simulate and compare (>= 2)."),
    seed: int = typer.Option(100, "--seed", help="Seed of the validation draw (not one of the data set's seeds)."),
    json_path: Path = typer.Option(..., "--json", help="Where to write the scores (JSON)."),
    data: Path = typer.Option(None, "--data", help="Training data set (default: the shipped sweep)."),
) -> None:
    """Fit the graph-GP surrogate on the sweep, then score it against N fresh P2D runs (r2, speed-up)."""
    import json

    import pandas as pd

    from lab.scenarios.electrode.p2d import import_pybamm
    from lab.scenarios.electrode.surrogate import validate_surrogate

    import_pybamm()
    frame = None
    if data is not None:
        try:
            frame = pd.read_csv(data)
        except (OSError, pd.errors.ParserError) as exc:
            raise ConfigError(f"--data {data}: cannot read ({exc})") from None
    scores = validate_surrogate(n, seed, data=frame)
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(scores, indent=2))
    except OSError as exc:
        raise ConfigError(f"--json {json_path}: cannot write ({exc.strerror})") from None
    r2 = ", ".join(f"{k} {v:.4f}" for k, v in scores["r2"].items())
    typer.echo(f"r2: {r2}; speed-up {scores['speedup']:.0f}x per recipe; wrote {json_path}")


@app.command("cache-world")
def cache_world(
    out: Path = typer.Option(None, "--out", help="Cache file (default: the shipped datasets/electrode_p2d/world_cache.json)."),
) -> None:
    """Fit the campaign world's surrogate and search its best-known front; write both (with provenance)."""
    import time

    from lab.scenarios.electrode.world import ElectrodeWorld
    from lab.scenarios.electrode.world_cache import default_cache_path, write_cache

    start = time.perf_counter()
    world = ElectrodeWorld(use_cache=False)
    sections = {"surrogate": world.surrogate_cache_section(), "front": world.front_cache_section()}
    try:
        path = write_cache(out or default_cache_path(), sections)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror})") from None
    front = world.best_known_front
    typer.echo(f"wrote {path}: surrogate hyperparameters and a {len(front)}-point front "
               f"(evaluated {world.front_counts_}) in {time.perf_counter() - start:.1f} s")
