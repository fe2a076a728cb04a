"""`lab serve`: drive a campaign on its schedule, one daily cycle per slot, for as long as it has days.

The server holds the campaign's lock the whole time (its heartbeat keeps it alive while it sleeps), waits
for each new day's slot, and resumes at once a day a crash left unfinished. With `approval: required` it waits
after each proposal for the scientist's decision (`ApprovalWait`), with the stations closed: no instrument
is held while a person reviews; an approval casts, a rejection proposes again. Slots follow
`CampaignConfig.schedule`: `every_hours` after the previous day's start (the first one at once when
`start_now`), or `daily_at` HH:MM local time. A stop (SIGTERM, `lab campaign stop`) ends the wait.
The clock is injected, so tests run a week of days in milliseconds. A new campaign is recorded (`starting`)
before the runner (torch, botorch) is imported, so a server killed at any moment is resumed by the next one.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol

from lab.campaign.config import CampaignConfig, Schedule
from lab.campaign.control import RunControl
from lab.campaign.session import register_campaign
from lab.errors import ConfigError
from lab.store import Store

if TYPE_CHECKING:
    from lab.campaign.cycle import ProgressCallback
    from lab.campaign.runner import CampaignResult


class Clock(Protocol):
    """Wall-clock time (timezone-aware) and sleeping."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds`."""
        ...


class SystemClock:
    """The machine's clock, in local time."""

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def next_slot(schedule: Schedule, now: datetime, last_start: datetime | None) -> datetime:
    """When the next day should start: `every_hours` after `last_start` (at once if overdue), or the next
    `daily_at` time of a day with no cycle started yet."""
    if schedule.every_hours is not None:
        if last_start is None:
            return now if schedule.start_now else now + timedelta(hours=schedule.every_hours)
        return max(now, last_start + timedelta(hours=schedule.every_hours))
    hour, minute = (int(v) for v in schedule.daily_at.split(":"))
    slot = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot < now:  # today's slot has passed (a missed slot waits for the next one)
        slot += timedelta(days=1)
    if last_start is not None:
        ran = last_start.astimezone(now.tzinfo)
        while slot.date() <= ran.date():  # one cycle per day
            slot += timedelta(days=1)
    return slot


class ApprovalWait:
    """`await_approval` of the runner: polls the store every `poll_s` until the day's proposal is decided."""

    def __init__(self, clock: Clock, control: RunControl, poll_s: float = 5.0) -> None:
        self.clock = clock
        self.control = control
        self.poll_s = poll_s
        self.waited: list[int] = []

    def __call__(self, day: int, decided) -> None:
        self.control.checkpoints.events.write("waiting_for_approval", day=day)
        self.waited.append(day)
        while not decided():
            self.control.check_stop()
            self.clock.sleep(self.poll_s)
        self.control.check_stop()


class ScheduleGate:
    """`before_day` of the runner: sleeps until the day's slot (in steps of at most `poll_s`), logs it."""

    def __init__(self, schedule: Schedule, clock: Clock, control: RunControl, last_start: datetime | None = None,
                 poll_s: float = 1.0) -> None:
        self.schedule = schedule
        self.clock = clock
        self.control = control
        self.last_start = last_start
        self.poll_s = poll_s
        self.starts: list[datetime] = []

    def __call__(self, day: int) -> None:
        slot = next_slot(self.schedule, self.clock.now(), self.last_start)
        self.control.checkpoints.events.write("waiting", day=day, until=slot.isoformat())
        while (remaining := (slot - self.clock.now()).total_seconds()) > 0:
            self.control.check_stop()
            self.clock.sleep(min(self.poll_s, remaining))
        self.control.check_stop()
        self.last_start = self.clock.now()
        self.starts.append(self.last_start)


def serve_campaign(config: CampaignConfig, store: Store, *, control: RunControl | None = None,
                   clock: Clock | None = None, on_progress: ProgressCallback | None = None,
                   poll_s: float = 1.0) -> tuple[CampaignResult, ScheduleGate]:
    """Run `config`'s campaign day by day on its schedule: resume it if the store has it, else start it.

    The campaign is the store's one named `config.name` (or, unnamed, its only unfinished campaign).
    """
    if config.schedule is None:
        raise ConfigError("schedule: `lab serve` needs a schedule (every_hours or daily_at) in the campaign file")
    control = control or RunControl()
    clock = clock or SystemClock()
    campaigns = store.campaigns()
    found = [c for c in campaigns if c.name == config.name] if config.name else \
        [c for c in campaigns if c.status != "done"]
    if len(found) > 1:
        raise ConfigError(f"name: the store holds several unfinished campaigns {[c.name for c in found]}; name one")
    last_start = None
    if found:
        days = store.days(found[0].id)
        if days:
            last_start = days[-1].started_at.replace(tzinfo=days[-1].started_at.tzinfo or timezone.utc)
    gate = ScheduleGate(config.schedule, clock, control, last_start, poll_s)
    approvals = ApprovalWait(clock, control, poll_s)
    if not found and config.prior is not None:
        from lab.campaign.runner import check_prior

        check_prior(config, None)  # a bad prior is refused before the campaign is recorded
    cid = found[0].id if found else register_campaign(config, store)
    from lab.campaign.runner import resume_campaign  # heavy (torch, botorch): once the campaign is recorded

    result = resume_campaign(store, cid, on_progress=on_progress, control=control, before_day=gate,
                             await_approval=approvals)
    return result, gate
