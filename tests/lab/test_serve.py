"""`lab serve`'s schedule: slots of `every_hours` and `daily_at`, and a served campaign on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lab.campaign.config import CampaignConfig, Schedule
from lab.campaign.cycle import RunControl
from lab.campaign.serve import next_slot, serve_campaign
from lab.store import Store, sqlite_url

TZ = timezone(timedelta(hours=1))
T0 = datetime(2025, 1, 6, 6, 0, tzinfo=TZ)


class FakeClock:
    """A clock that only moves when slept on."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)
        self.slept += seconds


def test_slots_of_both_schedules():
    every = Schedule(every_hours=6)
    assert next_slot(every, T0, None) == T0
    assert next_slot(Schedule(every_hours=6, start_now=False), T0, None) == T0 + timedelta(hours=6)
    assert next_slot(every, T0, T0 - timedelta(hours=2)) == T0 + timedelta(hours=4)
    assert next_slot(every, T0, T0 - timedelta(hours=9)) == T0  # overdue: at once
    daily = Schedule(daily_at="07:30")
    assert next_slot(daily, T0, None) == T0.replace(hour=7, minute=30)
    assert next_slot(daily, T0.replace(hour=8), None) == T0.replace(day=7, hour=7, minute=30)
    # today's cycle already started: tomorrow's slot
    assert next_slot(daily, T0.replace(hour=7, minute=40), T0.replace(hour=7, minute=30)) == \
        T0.replace(day=7, hour=7, minute=30)


def test_serve_runs_each_day_at_its_slot_and_resumes_the_schedule(tmp_path):
    # the store stamps days with the real clock: anchor the fake one on today (local time)
    t0 = datetime.now().astimezone().replace(hour=6, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    config = CampaignConfig(days=3, batch=3, droplets_per_recipe=3, seed=2, strategy="random", name="served",
                            schedule=Schedule(daily_at="07:30"))
    clock = FakeClock(t0)
    control = RunControl()
    stopped_after: list[int] = []

    def on_progress(day, done, total):
        if day == 2:  # SIGTERM during day 2: the server stops after the step
            control.stop.set()
            stopped_after.append(day)

    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        result, gate = serve_campaign(config, store, control=control, clock=clock, on_progress=on_progress, poll_s=3600)
        assert result.status == "stopped" and stopped_after == [2]
        assert gate.starts == [t0.replace(hour=7, minute=30), t0.replace(hour=7, minute=30) + day]
        assert [d.status for d in store.days(result.campaign_id)] == ["done", "done"]
        # restarted tomorrow at 09:00, after its slot: day 3 waits for the day after, 07:30
        clock.t = t0.replace(hour=9) + day
        result, gate = serve_campaign(config, store, clock=clock, poll_s=3600)
        assert result.status == "done" and len(result.history) == 9
        assert gate.starts == [t0.replace(hour=7, minute=30) + 2 * day]
