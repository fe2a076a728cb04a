"""What a station can do, as typing Protocols (the records they exchange are in `lab.records`).

The campaign depends on these capabilities, not on classes: the simulated stations (direct Python,
backed by a world) and the hardware stations (drivers + instruments or their emulators) both satisfy them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, Sequence, runtime_checkable

from lab.records import CastResult, FilmKey, Reading


@runtime_checkable
class DropCastingStation(Protocol):
    """Mixes one composition from stock solutions and casts droplets of it onto a wafer."""

    name: str

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Mix `recipe` (fractions in %) once and cast one droplet per key in `films`."""
        ...


@runtime_checkable
class OpticalStation(Protocol):
    """Measures UV-vis-NIR absorbance features of a cast film."""

    name: str

    def measure(self, film: FilmKey) -> Reading:
        """Return `absorbance_525` and `absorption_ratio` (A602/A525) of `film`."""
        ...


@runtime_checkable
class ConductivityStation(Protocol):
    """Measures sheet resistance by 4-point probe and, when asked, film thickness."""

    name: str

    def measure(self, film: FilmKey, with_thickness: bool | None = None) -> Reading:
        """Return `sheet_resistance` [Ohm/sq] and, if `with_thickness`, `thickness` [nm] of `film`.

        `None` leaves the choice to the station (it profiles a configured share of films).
        """
        ...


def _no_diagnostics() -> dict:
    return {}


def _nothing_to_release() -> None:
    return None


@dataclass
class StationSet:
    """The stations of one lab (they may share hardware), what they report, and how to release them.

    Attributes:
        maker: Makes films from a recipe.
        optical: First measuring station of a film.
        electrical: Second measuring station of a film.
        diagnostics: Extra figures for `summary.json` (e.g. faults of emulated hardware).
        close: Releases instruments and emulators.
    """

    maker: DropCastingStation
    optical: OpticalStation
    electrical: ConductivityStation
    diagnostics: Callable[[], dict] = _no_diagnostics
    close: Callable[[], None] = _nothing_to_release
