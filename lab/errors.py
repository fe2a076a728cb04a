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
