"""Any quantity world as the physics of the emulated bench: scenario files run through the real drivers.

`WorldBackend` implements `drivers.emulators.backend.BenchBackend` for a `QuantityWorld` that serves the
station kinds' native quantities: a droplet cast at a gantry position becomes a sample of the dispensed
mixture, realised once by the world (`QuantityWorld.sample`); the spectrometer then sees a band whose window
averages read the sample's `absorbance_525` and `absorption_ratio`, the 4-point probe the voltage of its
`sheet_resistance`, the profilometer its `thickness`. Quantities the world does not serve read as a plain film
(absorbance 0.5, ratio 0.7, 1e4 Ohm/sq, 200 nm) so a route may skip stations.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from drivers.emulators.backend import Position
from drivers.four_point_probe import probe_voltage_v
from lab.stations.world_stations import QuantityWorld

#: What a sample reads where the world serves no value.
PLAIN_FILM = {"absorbance_525": 0.5, "absorption_ratio": 0.7, "sheet_resistance": 1.0e4, "thickness": 200.0}
#: Half width [nm] of the flat top around 525 nm and 602 nm, so the optical station's window averages are exact.
PLATEAU_NM = 4.0


def band_spectrum(wavelengths_nm: np.ndarray, absorbance_525: float, ratio_602_525: float) -> np.ndarray:
    """An absorbance band through A(525) and A(602) = ratio x A(525), flat around both, zero beyond 900 nm."""
    a, r, h = absorbance_525, ratio_602_525, PLATEAU_NM
    knots = np.array([300.0, 400.0, 450.0, 525.0 - h, 525.0 + h, 602.0 - h, 602.0 + h, 660.0, 750.0, 900.0])
    values = a * np.array([0.3, 0.15, 0.55, 1.0, 1.0, r, r, 0.2 * r, 0.03, 0.0])
    return np.interp(np.asarray(wavelengths_nm, dtype=float), knots, values)


class WorldBackend:
    """`BenchBackend` backed by a `QuantityWorld`.

    Args:
        world: The ground truth (its `parameters` include the mixed components).
        components: Recipe components mixed from stock solutions.
        stocks: Pump stock name of each component.
        total: What the components sum to in recipe units (1 for fractions, 100 for %).
        fixed: Values of the recipe's other parameters (not dispensed), e.g. an anneal temperature.
        seed: Seeds the samples' realisations and failures.
        failure_rate: Share of droplets that leave no film.
    """

    def __init__(self, world: QuantityWorld, components: Sequence[str], stocks: Mapping[str, str], total: float,
                 seed: int = 0, failure_rate: float = 0.0, film_radius_mm: float = 1.5,
                 probe_correction: float = 1.0) -> None:
        self.world = world
        self.components = tuple(components)
        self.component_of = {stocks[c]: c for c in components}
        self.total = total
        self.failure_rate = failure_rate
        self.film_radius_mm = film_radius_mm
        self.probe_correction = probe_correction
        self._rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        self.films: dict[Position, dict[str, float] | None] = {}

    def recipe(self, volumes_ul: Mapping[str, float]) -> np.ndarray:
        """The recipe (world parameter order) of a mixture of stock volumes [uL]."""
        by_component = {self.component_of.get(s): float(v) for s, v in volumes_ul.items()}
        x = np.array([by_component.get(c, 0.0) for c in self.components])
        fractions = dict(zip(self.components, x / max(x.sum(), 1e-300) * self.total))
        return np.array([fractions.get(p, 0.0) for p in self.world.parameters])

    def film_at(self, position_xy_mm: Position) -> dict[str, float] | None:
        """The sample cast last within `film_radius_mm` of the position (None: bare substrate or failed)."""
        x, y = position_xy_mm
        near = [(math.hypot(x - fx, y - fy), p) for p in self.films for fx, fy in [p]
                if math.hypot(x - fx, y - fy) <= self.film_radius_mm]
        return self.films[min(near)[1]] if near else None

    def _value(self, film: Mapping[str, float], quantity: str) -> float:
        v = film.get(quantity, math.nan)
        return float(v) if math.isfinite(v) else PLAIN_FILM[quantity]

    # -- BenchBackend ------------------------------------------------------------------------------
    def deposit(self, position_xy_mm: Position, volumes_ul: Mapping[str, float]) -> None:
        key = (round(float(position_xy_mm[0]), 3), round(float(position_xy_mm[1]), 3))
        self.films = {p: f for p, f in self.films.items()
                      if math.hypot(p[0] - key[0], p[1] - key[1]) > self.film_radius_mm}
        if self._rng.random() < self.failure_rate or not any(v > 0 for v in volumes_ul.values()):
            self.films[key] = None
            return
        row = self.world.sample(self.recipe(volumes_ul)[None, :], self._rng).iloc[0]
        self.films[key] = {q: float(v) for q, v in row.items()}

    def absorbance_at(self, position_xy_mm: Position, wavelengths_nm: np.ndarray) -> np.ndarray:
        film = self.film_at(position_xy_mm)
        if film is None:
            return np.zeros(np.shape(wavelengths_nm))
        return band_spectrum(wavelengths_nm, self._value(film, "absorbance_525"), self._value(film, "absorption_ratio"))

    def iv_at(self, position_xy_mm: Position, current_a: float) -> float | None:
        film = self.film_at(position_xy_mm)
        if film is None:
            return None
        rs = self._value(film, "sheet_resistance")
        return probe_voltage_v(rs, current_a, self.probe_correction) if rs > 0 else None

    def thickness_at(self, position_xy_mm: Position) -> float:
        film = self.film_at(position_xy_mm)
        return 0.0 if film is None else max(self._value(film, "thickness"), 0.0)
