"""A maker whose preparation fails (a pump link down) fails that recipe's films, not the campaign (finding 12)."""

from __future__ import annotations

from pathlib import Path

from drivers.errors import Disconnected
from lab.campaign.config import CampaignConfig
from lab.campaign.runner import run_campaign
from lab.scenarios import build_scenario
from lab.store import Store, sqlite_url
from lab.store.integrity import check_integrity


def test_a_failing_prepare_cast_fails_the_recipe_and_the_day_goes_on(tmp_path: Path) -> None:
    scenario = build_scenario("p3ht-cnt", 1)
    real = scenario.maker.prepare_cast
    calls = []

    def flaky(recipe, films):
        calls.append(films[0])
        if len(calls) == 1:
            raise Disconnected("pump 0: no reply (link down)")
        return real(recipe, films)

    scenario.maker.prepare_cast = flaky
    config = CampaignConfig(days=1, batch=12, droplets_per_recipe=3, seed=1, strategy="random")
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        result = run_campaign(config, store, scenario=scenario)
        h = result.history
        assert result.status == "done" and len(h) == 12
        first = h[h["sample_id"].str.startswith("R01-W01-S1-")]
        assert (first["status"] == "failed").all()
        assert first["failure"].str.contains("cast not prepared: Disconnected: pump 0").all()
        assert (h[~h.index.isin(first.index)]["status"] != "planned").all()
        assert check_integrity(store).ok
