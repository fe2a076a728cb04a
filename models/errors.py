"""Errors raised by the models package."""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error raised by `models`."""


class ModelInputError(ModelError, ValueError):
    """Training or prediction data are invalid (the message names the column or shape)."""


class NotFittedError(ModelError, RuntimeError):
    """A model was used before `fit`."""
