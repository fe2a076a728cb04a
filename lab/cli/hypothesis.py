"""`lab hypothesis`: which measured intermediates carry information about a target beyond the recipe?

Thin command: read the CSV, take logs, call `models.hypothesis_test.run_hypothesis_test`, write the report.
Registered by the root app as `app.command(name="hypothesis")(command)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lab.cli._errors import user_errors
from lab.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


def _names(option: str, text: str) -> list[str]:
    """Split a comma-separated option into names (empty parts dropped)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if len(set(names)) != len(names):
        raise ConfigError(f"{option}: a column is listed twice ({text})")
    return names


def read_frame(path: Path) -> pd.DataFrame:
    """Read the data CSV, turning I/O and parse failures into one-line `ConfigError`s."""
    import pandas as pd

    if not path.is_file():
        raise ConfigError(f"--data {path}: no such file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--data {path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def take_logs(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Replace each named column by its natural log; every value present must be a positive number."""
    import numpy as np
    import pandas as pd

    frame = frame.copy()
    for name in columns:
        if name not in frame.columns:
            raise ConfigError(f"--log: unknown column {name!r}")
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isfinite(values) & (values <= 0))
        if bad.size:
            raise ConfigError(f"--log: column {name!r} has a non-positive value {values[bad[0]]:g} in row {bad[0] + 1}")
        frame[name] = np.log(values)
    return frame


def command(
    data: Path = typer.Option(..., "--data", help="CSV with one row per sample (film)."),
    inputs: str = typer.Option(..., "--inputs", help="Recipe columns, comma-separated (the `inputs` node)."),
    intermediates: str = typer.Option("", "--intermediates", help="Measured intermediate columns, comma-separated."),
    target: str = typer.Option(..., "--target", help="Target column."),
    group_by: str = typer.Option(None, "--group-by", help="Column whose equal values are replicates of one recipe "
                                 "(default: rows with identical inputs are one recipe)."),
    log: str = typer.Option("", "--log", help="Columns to replace by their natural log first, comma-separated."),
    max_path_length: int = typer.Option(3, "--max-path-length", help="Longest path inputs -> target, in edges (1-6)."),
    resamples: int = typer.Option(20, "--resamples", help="One-film-per-recipe resamples (>= 1)."),
    folds: int = typer.Option(5, "--folds", help="Grouped cross-validation folds (>= 2)."),
    outer_folds: int = typer.Option(3, "--outer-folds", help="Nested CV: outer folds scoring the selected graph on "
                                    "recipes its selection never saw (0: skip; each reruns the whole selection)."),
    seed: int = typer.Option(0, "--seed", help="Seed of folds' MC draws, resamples and bootstrap."),
    out: Path = typer.Option(..., "--out", help="Output directory: report.html and scores.json."),
) -> None:
    """Score every candidate graph recipe -> intermediates -> target by grouped cross-validation; report."""
    from lab.reports.hypothesis_report import write_hypothesis_report
    from models.graph_selection import SelectionSettings
    from models.hypothesis_test import run_hypothesis_test

    with user_errors():
        input_names = _names("--inputs", inputs)
        intermediate_names = _names("--intermediates", intermediates)
        frame = take_logs(read_frame(data), _names("--log", log))
        if group_by is not None and group_by not in frame.columns:
            raise ConfigError(f"--group-by: unknown column {group_by!r}")
        settings = SelectionSettings(max_path_length=max_path_length, n_resamples=resamples, n_folds=folds,
                                     outer_folds=outer_folds, seed=seed)
        groups = frame[group_by].astype(str).to_numpy() if group_by is not None else None
        grouping = f"column {group_by!r}" if group_by is not None else None
        result = run_hypothesis_test(frame, input_names, intermediate_names, target, groups, settings, grouping=grouping)
        try:
            scores_path, report_path = write_hypothesis_report(result, out)
        except OSError as exc:
            raise ConfigError(f"--out {out}: cannot write ({exc.strerror})") from None
    best = result.cv.graphs[result.ranking[0]].scores
    typer.echo(f"best r2 {best['r2']:.3f} over {len(result.cv.graphs)} graphs; wrote {report_path} and {scores_path}")
    typer.echo(f"recipes grouped by {result.grouping}; p-values corrected by {result.correction}")
    typer.echo(result.verdict)


#: Standalone app (tests, `python -m`): the single command at its root.
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command(name="hypothesis")(command)
