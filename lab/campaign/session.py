"""What a runner process sets up around a campaign: its store, structured log, signals and kill switch.

    with runner_session(out_dir, store_url) as (store, control):
        result = resume_campaign(store, select_campaign(store, None).id, control=control)

SIGTERM and SIGINT set the stop event: the runner finishes the step it is in and stops cleanly (campaign
`stopped`, lock released, resumable). `LAB_KILL_AT` (see `lab.campaign.events`) arms the crash-test kill switch.
Light (SQLAlchemy, no numpy or torch): a runner opens its session and records a new campaign
(`register_campaign`, state `starting`) before it imports the runner, so a kill at any moment leaves a campaign
that `lab campaign resume` carries on.
"""

from __future__ import annotations

import getpass
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from lab.campaign.control import RunControl
from lab.campaign.events import Checkpoints, EventLog, KillSwitch
from lab.campaign.selection import store_url_for
from lab.store import Store

if TYPE_CHECKING:
    from lab.campaign.config import CampaignConfig

#: The runner's structured log, in the output directory.
LOG_FILE = "lab.log"


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT set `stop` instead of killing the process (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def runner_session(out: Path | None, store: str | None = None, create: bool = True
                   ) -> Iterator[tuple[Store, RunControl]]:
    """Open the store (with the kill switch's commit hook) and the log `out/lab.log`; stop on signals.

    With `create=False` (resuming) a missing store is an error, never a new empty one.
    """
    events = EventLog(out / LOG_FILE if out is not None else None)
    checkpoints = Checkpoints(events, KillSwitch.from_env())
    control = RunControl(checkpoints, outputs=out)
    try:
        with Store(store_url_for(out, store), before_commit=checkpoints.commit, create=create) as db, \
                stop_on_signals(control.stop):
            yield db, control
    finally:
        events.close()


def named(config: CampaignConfig) -> CampaignConfig:
    """`config` with its campaign name: its own, or one made of scenario, seed and the time (ms)."""
    if config.name is not None:
        return config
    return config.model_copy(update={"name": f"{config.scenario}-seed{config.seed}-{int(time.time() * 1000)}"})


def register_campaign(config: CampaignConfig, store: Store, route: Mapping | None = None) -> int:
    """Record a new campaign (`named(config)`) in state `starting`; return its id.

    The first write of a run, before any heavy import or work: from here on a killed runner leaves a campaign
    that `resume_campaign` carries on (building its scenario then; a build that fails marks it `failed`).
    """
    config = named(config)
    return store.create_campaign(config.name, config.scenario, config.seed, config.model_dump(mode="json"),
                                 route=route)


def login_name() -> str:
    """Who runs this command (recorded as the one who decided or entered results when no name is given)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
