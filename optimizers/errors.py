"""Errors raised by the optimizers package: one base class, each also a builtin."""

from __future__ import annotations


class OptimizerError(Exception):
    """Base class of every error raised by `optimizers`."""


class SearchSpaceError(OptimizerError, ValueError):
    """A search space, a recipe or an observation table is invalid (the message names the field)."""


class InfeasibleSpaceError(SearchSpaceError):
    """The constraints cannot be satisfied together with the bounds."""
