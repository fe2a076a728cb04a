"""A full disk under the event log never loses a cast film (audit finding 4)."""

from __future__ import annotations

from pathlib import Path

from lab.campaign.config import CampaignConfig
from lab.campaign.cycle import RunControl
from lab.campaign.events import Checkpoints, EventLog
from lab.campaign.runner import run_campaign
from lab.scenarios import build_scenario
from lab.store import Store, sqlite_url


class _FullDisk:
    """A log file that accepts writes until a cast has happened, then fails like a full disk."""

    def __init__(self, real, armed) -> None:
        self._real, self._armed = real, armed

    def write(self, text: str) -> int:
        if self._armed():
            raise OSError(28, "No space left on device")
        return self._real.write(text)

    def flush(self) -> None:
        if self._armed():
            raise OSError(28, "No space left on device")
        self._real.flush()

    def close(self) -> None:
        self._real.close()


def test_the_cast_is_recorded_when_the_log_fails_right_after_it(tmp_path: Path) -> None:
    scenario = build_scenario("p3ht-cnt", 1)
    cast = scenario.maker.cast
    casts = []

    def counting_cast(recipe, films):
        casts.append(len(films))
        return cast(recipe, films)

    scenario.maker.cast = counting_cast
    events = EventLog(tmp_path / "lab.log")
    events._file = _FullDisk(events._file, lambda: bool(casts))
    control = RunControl(Checkpoints(events))
    config = CampaignConfig(days=1, batch=6, droplets_per_recipe=6, seed=1, strategy="random")
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        result = run_campaign(config, store, scenario=scenario, control=control)
    assert casts == [6]
    assert result.status == "done"
    assert result.history["status"].isin(["measured", "failed"]).all() and len(result.history) == 6
    assert (result.history["status"] == "measured").sum() >= 4
    assert not result.history["failure"].str.contains("needs inspection").any()
    assert events.dropped > 0
