"""Turn user errors into one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable, Iterator

import typer

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
    from pydantic import ValidationError  # here, not at module level: `lab --help` never needs pydantic

    try:
        yield
    except ValidationError as exc:
        raise fail(validation_message(exc)) from None
    except USER_ERRORS as exc:
        raise fail(str(exc)) from None


def guard_commands(app: typer.Typer) -> typer.Typer:
    """Run every command of `app` (and of its sub-groups) under `user_errors`; return `app`.

    For command groups defined outside the CLI package (a scenario's `commands`), which raise user errors
    without knowing how the CLI reports them.
    """
    for info in app.registered_commands:
        if info.callback is not None and not hasattr(info.callback, "__wrapped__"):
            info.callback = _guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)
    return app


def _guarded(callback: Callable) -> Callable:
    @functools.wraps(callback)
    def run(*args: object, **kwargs: object) -> object:
        with user_errors():
            return callback(*args, **kwargs)

    return run
