"""simulate_campaign_table: films of the world, replicates per recipe, thickness on a share, conductivity by the law."""

from __future__ import annotations

import numpy as np
import pytest

from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.campaign_table import TABLE_COLUMNS, simulate_campaign_table
from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld


@pytest.fixture(scope="module")
def world() -> P3HTCNTWorld:
    return P3HTCNTWorld.default()


def test_table_has_campaign_structure(world):
    table = simulate_campaign_table(40, (5, 6), thickness_fraction=0.3, seed=1, world=world)
    assert tuple(table.columns) == TABLE_COLUMNS
    assert table["recipe_id"].nunique() == 40
    assert table.groupby("recipe_id").size().between(1, 6).all() and 190 <= len(table) <= 240
    profiled = table["thickness"].notna().mean()
    assert 0.2 < profiled < 0.4
    has_both = table["sheet_resistance"].notna() & table["thickness"].notna()
    assert table["conductivity"].notna().equals(has_both)
    np.testing.assert_allclose(
        table.loc[has_both, "conductivity"],
        1e7 / (table.loc[has_both, "sheet_resistance"] * table.loc[has_both, "thickness"]),
    )
    # Replicates share the composition exactly; their readings differ (film-level effects and noise).
    first = table[table["recipe_id"] == 0]
    assert first[["p3ht", "l_swcnt"]].nunique().eq(1).all() and first["sheet_resistance"].nunique() > 1


def test_same_seed_same_table_and_measured_values_scatter_around_the_truth(world):
    a = simulate_campaign_table(30, 4, 1.0, seed=2, world=world, with_failures=False)
    b = simulate_campaign_table(30, 4, 1.0, seed=2, world=world, with_failures=False)
    assert a.equals(b) and len(a) == 120 and a.notna().all().all()
    truth = world.true_properties(a[["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]].to_numpy())
    log_error = np.log(a["conductivity"].to_numpy()) - np.log(truth["conductivity"].to_numpy())
    assert abs(log_error.mean()) < 0.05 and 0.05 < log_error.std() < 0.2  # film scatter ~0.1 plus probe noise


def test_bad_arguments_are_named(world):
    with pytest.raises(ConfigError, match="thickness_fraction"):
        simulate_campaign_table(5, 3, 1.5, world=world)
    with pytest.raises(ConfigError, match="films_per_recipe"):
        simulate_campaign_table(5, (3, 2), world=world)
