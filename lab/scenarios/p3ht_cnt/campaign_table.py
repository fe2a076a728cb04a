"""A campaign-like table of P3HT/CNT films drawn from the world: one row per film, NaN where nothing was measured.

Realisation and measurements go through the world's own API (`cast_film`, `measure_optical`,
`measure_sheet_resistance`, `measure_thickness`, `draw_failure`), so the table has exactly the statistics of a
simulated campaign: replicate droplets of one mix share a composition and differ by the film-level random
effects (thickness, order deviation, conductivity scatter); the slow profilometer is used on a share of films
only. Used by the hypothesis benchmark, the world acceptance tests and the campaign graph belief's tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.landscape import COMPONENTS
from lab.scenarios.p3ht_cnt.world import Film, P3HTCNTWorld, campaign_like_compositions

#: Columns of the table, in order (composition columns in %, resistance in Ohm/sq, thickness in nm, sigma in S/cm).
TABLE_COLUMNS: tuple[str, ...] = (
    "recipe_id",
    *COMPONENTS,
    "absorbance_525",
    "absorption_ratio",
    "sheet_resistance",
    "thickness",
    "conductivity",
)

#: Independent random streams, one per source of randomness (adding films never changes other draws' streams).
_COMPOSITIONS, _REPLICATES, _CAST, _OPTICAL, _ELECTRICAL, _PROFILED = range(6)


def simulate_campaign_table(
    n_recipes: int = 313,
    films_per_recipe: int | tuple[int, int] = (5, 6),
    thickness_fraction: float = 0.155,
    seed: int = 0,
    world: P3HTCNTWorld | None = None,
    compositions: np.ndarray | None = None,
    with_failures: bool = True,
) -> pd.DataFrame:
    """Cast and measure films of campaign-like compositions; return one row per film that was cast.

    Args:
        n_recipes: Distinct compositions (ignored when `compositions` is given).
        films_per_recipe: Droplets cast per composition: an int, or an inclusive range `(low, high)` drawn
            uniformly per recipe (the real campaign: 5-6, 1708 films from 313 compositions).
        thickness_fraction: Share of films sent to the profilometer (the real campaign: 265 / 1708 = 0.155).
        seed: Seeds every draw (compositions, replicate counts, films, readings, profiled films).
        world: The ground truth (default: `P3HTCNTWorld.default()`).
        compositions: Recipes to cast, `n x 5` in % (`COMPONENTS` order); default: `campaign_like_compositions`.
        with_failures: Apply the world's failure rate (a dewetted droplet leaves no row; a failed reading
            leaves NaN). With False every step succeeds.

    Returns:
        DataFrame with `TABLE_COLUMNS`: `thickness` is NaN on films not profiled (or whose profile failed),
        `conductivity` = 1e7 / (sheet_resistance * thickness) and NaN wherever either is missing.

    Raises:
        ConfigError: naming the argument and its allowed range.
    """
    world = world or P3HTCNTWorld.default()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    if compositions is None:
        if n_recipes < 1:
            raise ConfigError(f"n_recipes={n_recipes} must be >= 1")
        compositions = campaign_like_compositions(n_recipes, streams[_COMPOSITIONS])
    compositions = np.atleast_2d(np.asarray(compositions, dtype=float))
    if not 0.0 <= thickness_fraction <= 1.0:
        raise ConfigError(f"thickness_fraction={thickness_fraction} must be in [0, 1]")
    counts = _replicate_counts(films_per_recipe, compositions.shape[0], streams[_REPLICATES])

    rows: list[dict[str, float]] = []
    for recipe_id, (x, count) in enumerate(zip(compositions, counts)):
        for _ in range(count):
            if with_failures and world.draw_failure("cast", streams[_CAST]) is not None:
                continue
            film = world.cast_film(x, streams[_CAST])
            row = {"recipe_id": recipe_id, **film.recipe}
            row.update(_optical(world, film, streams[_OPTICAL], with_failures))
            profiled = bool(streams[_PROFILED].random() < thickness_fraction)
            row.update(_electrical(world, film, streams[_ELECTRICAL], profiled, with_failures))
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["recipe_id"] = table["recipe_id"].astype(int)
    table["conductivity"] = 1e7 / (table["sheet_resistance"] * table["thickness"])
    return table


def _replicate_counts(films_per_recipe: int | tuple[int, int], n: int, rng: np.random.Generator) -> np.ndarray:
    """Droplets per recipe, `n` ints (>= 1)."""
    if isinstance(films_per_recipe, (int, np.integer)):
        low = high = int(films_per_recipe)
    else:
        low, high = (int(v) for v in films_per_recipe)
    if not 1 <= low <= high:
        raise ConfigError(f"films_per_recipe={films_per_recipe} must be an int >= 1 or a range (low, high), 1 <= low <= high")
    return rng.integers(low, high + 1, size=n)


def _optical(world: P3HTCNTWorld, film: Film, rng: np.random.Generator, with_failures: bool) -> dict[str, float]:
    if with_failures and world.draw_failure("optical", rng) is not None:
        return {"absorbance_525": np.nan, "absorption_ratio": np.nan}
    return world.measure_optical(film, rng)


def _electrical(
    world: P3HTCNTWorld, film: Film, rng: np.random.Generator, profiled: bool, with_failures: bool
) -> dict[str, float]:
    if with_failures and world.draw_failure("sheet_resistance", rng) is not None:
        values = {"sheet_resistance": np.nan}
    else:
        values = {"sheet_resistance": world.measure_sheet_resistance(film, rng)}
    thickness = np.nan
    if profiled and not (with_failures and world.draw_failure("thickness", rng) is not None):
        thickness = world.measure_thickness(film, rng)
    values["thickness"] = thickness
    return values
