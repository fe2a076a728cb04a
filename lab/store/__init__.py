"""The lab's durable store (SQLAlchemy): campaigns, days, recipes, films, measurements, campaign locks.

`Store` and the states are loaded on first use (PEP 562), so the stdlib-only parts of this package
(`lab.store.views`, `lab.store.status_reader`) import without SQLAlchemy: `lab campaign status` starts at once.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from lab.store.sqlite_file import sqlite_url

if TYPE_CHECKING:
    from lab.store.store import CAMPAIGN_STATES, DAY_STATES, RECIPE_STATES, RecipeRecord, Store, film_states_of

__all__ = ["CAMPAIGN_STATES", "DAY_STATES", "RECIPE_STATES", "RecipeRecord", "Store", "film_states_of", "sqlite_url"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(import_module("lab.store.store"), name)
    raise AttributeError(f"module 'lab.store' has no attribute {name!r}")
