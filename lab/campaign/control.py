"""What steers a runner from outside: its structured log and checkpoints, and a stop request.

Light (no numpy, no scenario): a runner makes its control, opens its store and records a new campaign before
the heavy modules (torch, botorch) are imported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from lab.campaign.events import Checkpoints


class CampaignStopped(Exception):
    """A stop was asked for (SIGTERM, SIGINT, `lab campaign stop`): the runner stopped between two steps."""


class AwaitingApproval(Exception):
    """The day's proposal waits for a scientist's decision: the runner stops before anything is dispensed."""

    def __init__(self, day: int, round_: int) -> None:
        super().__init__(f"day {day}: proposal round {round_} awaits approval")
        self.day = day
        self.round = round_


@dataclass
class RunControl:
    """What steers a runner from outside: the structured log and checkpoints, and a stop request."""

    checkpoints: Checkpoints = field(default_factory=Checkpoints)
    stop: threading.Event = field(default_factory=threading.Event)
    heartbeat_s: float = 5.0
    stale_after_s: float = 60.0
    #: where files for people go (a waiting day's `day-N/proposal.csv`); None: nowhere (the store has all)
    outputs: Path | None = None

    def check_stop(self) -> None:
        """Raise `CampaignStopped` if a stop was asked for (called between steps)."""
        if self.stop.is_set():
            raise CampaignStopped("stop requested")
