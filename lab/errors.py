"""Errors raised by the lab package; the CLI turns `LabError` into one line and exit code 2."""

from __future__ import annotations


class LabError(Exception):
    """Base class of every user-facing error raised by `lab`."""


class ConfigError(LabError, ValueError):
    """A configuration value is invalid (the message names the field and the allowed range)."""


class StoreError(LabError, RuntimeError):
    """The store cannot be opened or a write failed (nothing was half-written)."""


class OptionalDependencyError(LabError, ImportError):
    """A feature needs an optional extra that is not installed (the message names the pip command)."""


class BenchError(LabError, RuntimeError):
    """A benchmark's Dask cluster cannot be reached, or a campaign failed on a worker (the message names it)."""


class CampaignLocked(StoreError):
    """Another live runner holds the campaign's lock (the message names its host and pid)."""


class OutputError(LabError, OSError):
    """An output file cannot be written (the message names the file and the cause, e.g. a full disk)."""


class LockLost(StoreError):
    """This runner's lock was taken over: the write was refused (fencing), nothing was written."""


#: Longest echo of a rejected value in an error line (a YAML anchor can expand a small file enormously).
PREVIEW_CHARS = 80


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """A bounded `repr` of a rejected value: at most `limit` characters, never the whole of a huge input."""
    if isinstance(value, (dict, list, tuple, set)) and len(value) > 20:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validation_message(exc: Exception) -> str:
    """One line naming the first invalid field of a pydantic `ValidationError`, what is wrong and a preview of it."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return str(exc).splitlines()[0]
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    got = "" if first["type"] in ("value_error", "assertion_error", "missing") or "input" not in first \
        else f" (got {preview(first['input'])})"
    return f"{where}: {message}{got}" if where else f"{message}{got}"
