"""The lab's durable store (SQLAlchemy): campaigns, days, recipes, films, measurements."""

from lab.store.store import FILM_STATES, RecipeRecord, Store, sqlite_url

__all__ = ["FILM_STATES", "RecipeRecord", "Store", "sqlite_url"]
