"""The records stations, the store and the campaign exchange: where a film is, what was cast, what was read.

The lowest layer of `lab` (nothing here imports `lab`), so stations and the store both use them without
depending on each other.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

#: Droplet (sample) letters of one recipe slot, in order.
DROPLET_LETTERS = string.ascii_lowercase


@dataclass(frozen=True, order=True)
class FilmKey:
    """Where a film is: run (day) / wafer / sample (composition slot on the wafer) / droplet letter."""

    run: int
    wafer: int
    sample: int
    droplet: str

    @property
    def sample_id(self) -> str:
        """Unique, sortable film identifier, e.g. `R02-W03-S4-c`."""
        return f"R{self.run:02d}-W{self.wafer:02d}-S{self.sample}-{self.droplet}"


@dataclass(frozen=True)
class Reading:
    """Quantities one station measured on one film (SI-like units named in `units`), or why it failed."""

    film: FilmKey
    station: str
    values: Mapping[str, float] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    failure: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def ok(self) -> bool:
        """Whether the measurement succeeded."""
        return self.failure is None


@dataclass(frozen=True)
class CastResult:
    """One cast film: its key, the volumes actually dispensed (uL per stock solution), or why it failed."""

    film: FilmKey
    station: str
    volumes_ul: Mapping[str, float] = field(default_factory=dict)
    failure: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def ok(self) -> bool:
        """Whether the film was cast."""
        return self.failure is None
