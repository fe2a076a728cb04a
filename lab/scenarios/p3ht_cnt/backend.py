"""The P3HT/CNT world as the physics of the emulated bench (`drivers.emulators.backend.BenchBackend`).

A droplet cast at a gantry position becomes a film of the dispensed mixture's composition, realised by the
world (`cast_film`, with the world's cast-failure rate: a failed droplet leaves bare substrate). The emulated
instruments then see, at that position:

- spectrometer: a P3HT-like absorbance band through the world's A(525) and A(602) = R * A(525), flat
  +-`PLATEAU_NM` around both so the station's window average reads them exactly, zero beyond 900 nm;
  one world draw per scan; a world `optical` failure is a drifted reference: the whole spectrum shifted
  by `DRIFT_ABSORBANCE` (the station sees it in the NIR baseline);
- 4-point probe: V = I * Rs * ln2 / pi / F with Rs drawn by the world once per contact (the reversed
  current re-uses it); a world `sheet_resistance` failure is an open contact (no reading: contact check);
- profilometer: the world's thickness, one draw per reading; a world `thickness` failure reads 0 nm
  (the stylus lost contact).

Each kind of draw has its own seeded generator, so the emulated campaign has the simulated one's statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from drivers.emulators.backend import Position
from drivers.four_point_probe import probe_voltage_v
from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.world import COMPONENTS, Film, P3HTCNTWorld

#: Half width [nm] of the flat top around 525 nm and 602 nm in the synthetic spectrum.
PLATEAU_NM = 4.0
#: Absorbance offset of a scan taken against a drifted reference (lamp dimmed since the reference scan).
DRIFT_ABSORBANCE = 0.3


@dataclass
class CastFilm:
    """What lies at one cast position: the world's film, or why the droplet left no film."""

    composition_pct: np.ndarray
    film: Film | None
    cast_failure: str | None = None


def band_absorbance(wavelengths_nm: np.ndarray, absorbance_525: float, ratio_602_525: float) -> np.ndarray:
    """Return a P3HT-like absorbance spectrum (shape like `wavelengths_nm`) with the given A(525) and A602/A525."""
    a, r = absorbance_525, ratio_602_525
    h = PLATEAU_NM
    knots = np.array([300.0, 400.0, 450.0, 525.0 - h, 525.0 + h, 602.0 - h, 602.0 + h, 660.0, 750.0, 900.0])
    values = a * np.array([0.3, 0.15, 0.55, 1.0, 1.0, r, r, 0.2 * r, 0.03, 0.0])
    return np.interp(np.asarray(wavelengths_nm, dtype=float), knots, values)


class P3HTCNTBackend:
    """`BenchBackend` backed by a `P3HTCNTWorld`.

    Args:
        world: The ground truth.
        stocks: Pump stock name of each world component (`COMPONENTS` order is used for compositions).
        seed: Seeds the cast, optical, electrical and thickness draws (independent streams).
        film_radius_mm: A position within this distance of a cast point is on that film.
        probe_correction: Geometric factor F of the 4-point probe the voltages are made for.
    """

    def __init__(self, world: P3HTCNTWorld, stocks: Mapping[str, str], seed: int = 0,
                 film_radius_mm: float = 1.5, probe_correction: float = 1.0) -> None:
        missing = [c for c in COMPONENTS if c not in stocks]
        if missing:
            raise ConfigError(f"stations.stocks: no stock for component(s) {missing}")
        self.world = world
        self.component_of = {stock: component for component, stock in stocks.items()}
        self.film_radius_mm = film_radius_mm
        self.probe_correction = probe_correction
        streams = np.random.SeedSequence(seed).spawn(4)
        self._cast_rng, self._optical_rng, self._electrical_rng, self._thickness_rng = (
            np.random.default_rng(s) for s in streams)
        self.films: dict[Position, CastFilm] = {}
        self._contact_rs: dict[Position, float] = {}

    def composition_pct(self, volumes_ul: Mapping[str, float]) -> np.ndarray:
        """Return the composition (% per component, `COMPONENTS` order) of a mixture of stock volumes [uL]."""
        unknown = sorted(set(volumes_ul) - set(self.component_of))
        if unknown:
            raise ConfigError(f"dispensed stock(s) {unknown} are no component of the world")
        by_component = {self.component_of[s]: float(v) for s, v in volumes_ul.items()}
        x = np.array([by_component.get(c, 0.0) for c in COMPONENTS])
        return x / x.sum() * 100.0

    def film_at(self, position_xy_mm: Position) -> CastFilm | None:
        """Return what was cast last within `film_radius_mm` of the position, if anything."""
        x, y = position_xy_mm
        best: tuple[float, Position] | None = None
        for fx, fy in self.films:
            d = math.hypot(x - fx, y - fy)
            if d <= self.film_radius_mm and (best is None or d < best[0]):
                best = (d, (fx, fy))
        return None if best is None else self.films[best[1]]

    # -- BenchBackend ------------------------------------------------------------------------------
    def deposit(self, position_xy_mm: Position, volumes_ul: Mapping[str, float]) -> None:
        """Realise the droplet as a world film (or a failed droplet); a new wafer's film replaces an old one.

        A mixture outside the world's composition range (a partial mix purged to waste) leaves no film.
        """
        x = self.composition_pct(volumes_ul)
        key = (round(float(position_xy_mm[0]), 3), round(float(position_xy_mm[1]), 3))
        old = self.film_at(key)
        if old is not None:
            self.films = {p: f for p, f in self.films.items() if f is not old}
        self._contact_rs.pop(key, None)
        failure = self.world.draw_failure("cast", self._cast_rng)
        if failure is not None:
            self.films[key] = CastFilm(x, None, cast_failure=failure)
            return
        try:
            film = self.world.cast_film(x, self._cast_rng)
        except ConfigError as exc:  # e.g. a purged partial mix: real liquid, outside what the world models
            self.films[key] = CastFilm(x, None, cast_failure=f"composition outside the world: {exc}")
            return
        self.films[key] = CastFilm(x, film)

    def absorbance_at(self, position_xy_mm: Position, wavelengths_nm: np.ndarray) -> np.ndarray:
        cast = self.film_at(position_xy_mm)
        if cast is None or cast.film is None:
            return np.zeros(np.shape(wavelengths_nm))
        drifted = self.world.draw_failure("optical", self._optical_rng) is not None
        optical = self.world.measure_optical(cast.film, self._optical_rng)
        spectrum = band_absorbance(wavelengths_nm, optical["absorbance_525"], optical["absorption_ratio"])
        return spectrum + DRIFT_ABSORBANCE if drifted else spectrum

    def iv_at(self, position_xy_mm: Position, current_a: float) -> float | None:
        cast = self.film_at(position_xy_mm)
        if cast is None or cast.film is None:
            return None
        key = next(p for p, f in self.films.items() if f is cast)
        if current_a >= 0 or key not in self._contact_rs:
            self._contact_rs.pop(key, None)
            if self.world.draw_failure("sheet_resistance", self._electrical_rng) is not None:
                return None
            self._contact_rs[key] = float(self.world.measure_sheet_resistance(cast.film, self._electrical_rng))
        return probe_voltage_v(self._contact_rs[key], current_a, self.probe_correction)

    def thickness_at(self, position_xy_mm: Position) -> float:
        cast = self.film_at(position_xy_mm)
        if cast is None or cast.film is None:
            return 0.0
        if self.world.draw_failure("thickness", self._thickness_rng) is not None:
            return 0.0
        return float(self.world.measure_thickness(cast.film, self._thickness_rng))
