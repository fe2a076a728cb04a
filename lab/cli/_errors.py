"""Turn user errors into one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import typer
from pydantic import ValidationError

from drivers.errors import DriverError
from lab.errors import LabError, validation_message
from models.errors import ModelError
from optimizers.errors import OptimizerError

USER_ERRORS = (LabError, OptimizerError, ModelError, DriverError)


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr and return the exit to raise (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Run a command body; a user error becomes one line on stderr and exit code 2."""
    try:
        yield
    except ValidationError as exc:
        raise fail(validation_message(exc)) from None
    except USER_ERRORS as exc:
        raise fail(str(exc)) from None
