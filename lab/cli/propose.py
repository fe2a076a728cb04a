"""`lab propose`: ask for the next batch from files (search space YAML + observations CSV -> NEXT.csv)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lab.cli._errors import fail, user_errors
from lab.files import write_atomic
from optimizers.strategies import STRATEGIES

if TYPE_CHECKING:
    import pandas as pd

    from optimizers.search_space import SearchSpace
    from optimizers.settings import DispenseLimits


def _read_observations(path: Path, option: str = "--observations") -> pd.DataFrame:
    """The observation table (or another table of the same form, e.g. `--prior`); a missing or header-less file
    is a user error."""
    import pandas as pd

    if path.is_dir():
        raise fail(f"{option}: {path} is a directory; give the CSV file")
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise fail(f"{option}: file {path} does not exist") from None
    except pd.errors.EmptyDataError:
        raise fail(f"{option}: file {path} is empty (it needs at least the header row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise fail(f"{option}: file {path} is not a readable CSV ({str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise fail(f"{option}: cannot read {path} ({exc.strerror or exc})") from None
    with open(path, newline="", encoding="utf-8") as f:
        header = [c.strip() for c in next(csv.reader(f), [])]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise fail(f"{option}: column {dupes[0]!r} appears {header.count(dupes[0])} times in the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _dispense(space: SearchSpace, min_volume_ul: float | None, mix_volume_ul: float) -> DispenseLimits | None:
    """Dispensing limits on the space's one sum equality (the mixture), if a minimum volume is given."""
    from optimizers.settings import DispenseLimits

    if min_volume_ul is None:
        return None
    sums = [c for c in space.constraints if c.equals is not None and c.weights is None]
    if len(sums) != 1:
        raise fail("--min-volume-ul: the search space needs exactly one plain sum equality (the mixture)")
    return DispenseLimits(components=sums[0].names, total=sums[0].equals, min_volume_ul=min_volume_ul, mix_volume_ul=mix_volume_ul)


def command(
    space: Path = typer.Option(..., "--space", help="Search space YAML (parameters, constraints, objectives)."),
    observations: Path = typer.Option(..., "--observations", help="CSV of measured and pending rows (may hold only a header)."),
    batch: int = typer.Option(..., "--batch", min=1, help="Number of rows to propose."),
    out: Path = typer.Option(..., "--out", help="Where to write the proposed rows (CSV)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed: the same inputs and seed give the same batch."),
    strategy: str = typer.Option("default", "--strategy", help=f"One of: {', '.join(STRATEGIES)}."),
    replicates: int = typer.Option(1, "--replicates", min=1, help="Rows (films) per distinct recipe."),
    max_recipes: int | None = typer.Option(None, "--max-recipes", min=1, help="Cap on distinct recipes in the batch."),
    min_volume_ul: float | None = typer.Option(
        None, "--min-volume-ul", min=0.0, help="Pump minimum: mixture components below it are set to 0 and renormalised."
    ),
    mix_volume_ul: float = typer.Option(100.0, "--mix-volume-ul", min=1e-9, help="Volume of one mix, uL."),
    prior: Path | None = typer.Option(
        None, "--prior", help="Past measurements (CSV: the parameter columns and objective columns) entered as a "
        "related task: a multi-task GP learns how far they carry over."),
    prior_same_process: bool = typer.Option(False, "--prior-same-process",
                                            help="Take --prior's rows as measurements of this very process."),
    candidates: Path | None = typer.Option(
        None, "--candidates",
        help="CSV pool of recipes to choose from (parameter columns; other columns are kept and returned)."),
) -> None:
    """Propose the next batch of recipes (ask/tell from files)."""
    from optimizers.propose import propose
    from optimizers.search_space import SearchSpace
    from optimizers.settings import BatchLayout

    models: dict = {}
    with user_errors():
        search_space = SearchSpace.from_yaml(space)
        frame = _read_observations(observations)
        pool = _read_observations(candidates, "--candidates") if candidates is not None else None
        if prior is not None:
            from optimizers.prior import fit_prior

            fit = fit_prior(search_space, frame, _read_observations(prior, "--prior"), seed,
                            same_process=prior_same_process)
            frame, models = fit.observations, fit.models
            learned = ", ".join(f"{k} {v:.3f}" for k, v in fit.correlations.items())
            typer.echo(f"prior: {fit.rows} rows, {fit.mode}" + (f"; learned task correlation {learned}" if learned else ""),
                       err=True)
        result = propose(
            search_space,
            frame,
            batch,
            seed,
            strategy=strategy,
            dispense=_dispense(search_space, min_volume_ul, mix_volume_ul),
            layout=BatchLayout(replicates=replicates, max_recipes=max_recipes),
            objective_models=models or None,
            candidates=pool,
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, result.to_csv(index=False))
    except OSError as exc:
        raise fail(f"--out: cannot write {out} ({exc.strerror})") from None
    distinct = result[search_space.names].drop_duplicates().shape[0]
    typer.echo(f"wrote {len(result)} rows ({distinct} distinct recipes) to {out}")
