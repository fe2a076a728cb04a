"""Turn user errors into one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import typer
from pydantic import ValidationError

from drivers.errors import DriverError
from lab.errors import LabError
from models.errors import ModelError
from optimizers.errors import OptimizerError

USER_ERRORS = (LabError, OptimizerError, ModelError, DriverError)


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr and return the exit to raise (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first invalid field, its value and what is allowed."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "input"
    return f"{where}: {first['msg']} (got {first.get('input')!r})"


@contextmanager
def user_errors() -> Iterator[None]:
    """Run a command body; a user error becomes one line on stderr and exit code 2."""
    try:
        yield
    except ValidationError as exc:
        raise fail(describe_validation_error(exc)) from None
    except USER_ERRORS as exc:
        raise fail(str(exc)) from None
