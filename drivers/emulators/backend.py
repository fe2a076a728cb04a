"""The physics behind the emulated bench, as a Protocol, and a simple lookup implementation for tests.

`drivers` cannot import `lab`, so the emulators depend on this `BenchBackend` protocol; the lab
implements it with its P3HT/CNT world. Positions are gantry machine coordinates in mm (x, y); a film
occupies a disc of `film_radius_mm` around the position where it was cast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from drivers.four_point_probe import probe_voltage_v

Position = tuple[float, float]


@runtime_checkable
class BenchBackend(Protocol):
    """What the emulated instruments ask the simulated world."""

    def deposit(self, position_xy_mm: Position, volumes_ul: Mapping[str, float]) -> None:
        """A droplet of the mixture `volumes_ul` (uL per stock solution) was cast at `position_xy_mm`."""
        ...

    def absorbance_at(self, position_xy_mm: Position, wavelengths_nm: np.ndarray) -> np.ndarray:
        """Return the absorbance (base 10, shape like `wavelengths_nm`) relative to the bare substrate.

        Zero everywhere where there is no film.
        """
        ...

    def iv_at(self, position_xy_mm: Position, current_a: float) -> float | None:
        """Return the 4-point-probe inner voltage [V] when sourcing `current_a` [A] through the outer pins.

        `None` when the probe does not touch a conductive film (open contacts).
        """
        ...

    def thickness_at(self, position_xy_mm: Position) -> float:
        """Return the film thickness [nm] at the position (0 on bare substrate)."""
        ...


@dataclass(frozen=True)
class FilmProperties:
    """Fixed properties of one film of the simple backend.

    Attributes:
        absorbance_525: Absorbance at 525 nm.
        ratio_602_525: Absorbance at 602 nm divided by absorbance at 525 nm.
        sheet_resistance_ohm_sq: Sheet resistance [Ohm/sq].
        thickness_nm: Thickness [nm].
    """

    absorbance_525: float = 0.5
    ratio_602_525: float = 0.7
    sheet_resistance_ohm_sq: float = 1.0e4
    thickness_nm: float = 200.0

    def absorbance(self, wavelengths_nm: np.ndarray) -> np.ndarray:
        """Piecewise-linear spectrum through A(525) and A(602) exactly (a P3HT-like band)."""
        peak = self.absorbance_525
        knots = np.array([200.0, 400.0, 450.0, 525.0, 602.0, 660.0, 750.0, 1100.0])
        values = peak * np.array([0.3, 0.15, 0.55, 1.0, self.ratio_602_525, 0.2, 0.03, 0.0])
        return np.interp(np.asarray(wavelengths_nm, dtype=float), knots, values)


def default_film_properties(volumes_ul: Mapping[str, float]) -> FilmProperties:
    """Map a mixture to film properties with a smooth made-up rule (for tests only).

    The first stock (alphabetically) acts as the absorber, every other stock lowers resistance.
    """
    total = sum(volumes_ul.values())
    if total <= 0:
        return FilmProperties(absorbance_525=0.0, sheet_resistance_ohm_sq=math.inf, thickness_nm=0.0)
    names = sorted(volumes_ul)
    absorber = volumes_ul[names[0]] / total
    return FilmProperties(absorbance_525=0.1 + 0.9 * absorber, ratio_602_525=0.5 + 0.3 * absorber,
                          sheet_resistance_ohm_sq=10.0 ** (2.0 + 4.0 * absorber),
                          thickness_nm=50.0 + 2.0 * total)


class SimpleBackend:
    """A `BenchBackend` that remembers cast films and gives each fixed properties.

    Args:
        properties_for: Maps the cast mixture (uL per stock) to the film's properties.
        film_radius_mm: A position within this distance of a cast point is on that film.
        probe_correction: Geometric factor F of the 4-point probe the voltages are made for.
    """

    def __init__(self, properties_for: Callable[[Mapping[str, float]], FilmProperties] = default_film_properties,
                 film_radius_mm: float = 1.5, probe_correction: float = 1.0) -> None:
        self.properties_for = properties_for
        self.film_radius_mm = film_radius_mm
        self.probe_correction = probe_correction
        self.films: list[tuple[Position, dict[str, float], FilmProperties]] = []

    def film_at(self, position_xy_mm: Position) -> FilmProperties | None:
        """Return the properties of the most recent film under `position_xy_mm`, if any."""
        x, y = position_xy_mm
        for (fx, fy), _, props in reversed(self.films):
            if math.hypot(x - fx, y - fy) <= self.film_radius_mm:
                return props
        return None

    def deposit(self, position_xy_mm: Position, volumes_ul: Mapping[str, float]) -> None:
        volumes = {k: float(v) for k, v in volumes_ul.items()}
        self.films.append(((float(position_xy_mm[0]), float(position_xy_mm[1])), volumes,
                           self.properties_for(volumes)))

    def absorbance_at(self, position_xy_mm: Position, wavelengths_nm: np.ndarray) -> np.ndarray:
        film = self.film_at(position_xy_mm)
        if film is None:
            return np.zeros(np.shape(wavelengths_nm))
        return film.absorbance(wavelengths_nm)

    def iv_at(self, position_xy_mm: Position, current_a: float) -> float | None:
        film = self.film_at(position_xy_mm)
        if film is None or not math.isfinite(film.sheet_resistance_ohm_sq):
            return None
        return probe_voltage_v(film.sheet_resistance_ohm_sq, current_a, self.probe_correction)

    def thickness_at(self, position_xy_mm: Position) -> float:
        film = self.film_at(position_xy_mm)
        return 0.0 if film is None else film.thickness_nm
