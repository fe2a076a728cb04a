"""The lab's durable store (SQLAlchemy): campaigns, days, recipes, films, measurements, campaign locks."""

from lab.store.store import CAMPAIGN_STATES, DAY_STATES, FILM_STATES, RECIPE_STATES, RecipeRecord, Store, sqlite_url

__all__ = ["CAMPAIGN_STATES", "DAY_STATES", "FILM_STATES", "RECIPE_STATES", "RecipeRecord", "Store", "sqlite_url"]
