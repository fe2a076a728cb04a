"""The lab's durable store (SQLAlchemy): campaigns, days, recipes, films, measurements, campaign locks."""

from lab.store.store import CAMPAIGN_STATES, DAY_STATES, RECIPE_STATES, RecipeRecord, Store, film_states_of, sqlite_url

__all__ = ["CAMPAIGN_STATES", "DAY_STATES", "RECIPE_STATES", "RecipeRecord", "Store", "film_states_of", "sqlite_url"]
