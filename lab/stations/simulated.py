"""Stations in direct Python, backed by the P3HT/CNT world: the fast default of simulated campaigns.

A `SimulatedBench` is the physical state of the lab: which film sits at which key, as realised by
the world when it was cast. Each station draws its noise from its own seeded generator, so a campaign
is reproducible whatever order stations run in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from lab.stations.base import CastResult, FilmKey, Reading
from lab.worlds.p3ht_cnt import COMPONENTS, Film, P3HTCNTWorld
from optimizers.mixture import snap_to_dispensable


@dataclass
class SimulatedBench:
    """The films on the lab's wafers, realised by the world, keyed by `FilmKey`."""

    world: P3HTCNTWorld
    films: dict[FilmKey, Film] = field(default_factory=dict)

    def film(self, key: FilmKey) -> Film:
        """The film at `key` (KeyError if nothing was cast there)."""
        return self.films[key]


class SimulatedDropCaster:
    """Mixes stock-solution volumes and casts droplets; a droplet may dewet (the world's failure rate)."""

    def __init__(self, bench: SimulatedBench, rng: np.random.Generator, mix_volume_ul: float = 100.0, min_volume_ul: float = 0.05) -> None:
        self.name = "drop-casting (simulated)"
        self._bench = bench
        self._rng = rng
        self._mix_volume_ul = mix_volume_ul
        self._min_volume_ul = min_volume_ul

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Mix `recipe` once (volumes snapped to what the pumps can dispense) and cast one droplet per key."""
        fractions = np.array([[float(recipe[c]) for c in COMPONENTS]])
        snap = snap_to_dispensable(fractions, mix_volume_ul=self._mix_volume_ul, min_volume_ul=self._min_volume_ul)
        volumes = dict(zip(COMPONENTS, snap.volumes_ul[0].tolist()))
        x = snap.fractions[0]
        results = []
        for key in films:
            if key in self._bench.films:
                raise RuntimeError(f"film {key.sample_id} was already cast")
            failure = self._bench.world.draw_cast_failure(self._rng)
            if failure is not None:
                results.append(CastResult(film=key, station=self.name, volumes_ul=volumes, failure=failure))
                continue
            self._bench.films[key] = self._bench.world.cast_film(x, self._rng)
            results.append(CastResult(film=key, station=self.name, volumes_ul=volumes))
        return results


class SimulatedOpticalStation:
    """UV-vis-NIR absorbance at 525 nm and the A602/A525 ratio of a cast film."""

    def __init__(self, bench: SimulatedBench, rng: np.random.Generator) -> None:
        self.name = "optical (simulated)"
        self._bench = bench
        self._rng = rng

    def measure(self, film: FilmKey) -> Reading:
        """Measure the optical features of `film`."""
        values = self._bench.world.measure_optical(self._bench.film(film), self._rng)
        return Reading(film=film, station=self.name, values=values, units={"absorbance_525": "", "absorption_ratio": ""})


class SimulatedConductivityStation:
    """4-point-probe sheet resistance and, when asked, profilometer thickness; conductivity from both."""

    def __init__(
        self,
        bench: SimulatedBench,
        rng: np.random.Generator,
        thickness_fraction: float = 1.0,
        thickness_rng: np.random.Generator | None = None,
    ) -> None:
        self.name = "conductivity (simulated)"
        self._bench = bench
        self._rng = rng
        self._thickness_fraction = thickness_fraction
        self._thickness_rng = thickness_rng if thickness_rng is not None else rng

    def measure(self, film: FilmKey, with_thickness: bool | None = None) -> Reading:
        """Measure `sheet_resistance` [Ohm/sq], and `thickness` [nm] and `conductivity` [S/cm] if asked.

        With `with_thickness=None` the station profiles a random `thickness_fraction` of films
        (the slow, expensive measurement of the real lab).
        """
        if with_thickness is None:
            with_thickness = bool(self._thickness_rng.random() < self._thickness_fraction)
        f = self._bench.film(film)
        failure = self._bench.world.draw_probe_failure(self._rng)
        if failure is not None:
            return Reading(film=film, station=self.name, failure=failure)
        rs = self._bench.world.measure_sheet_resistance(f, self._rng)
        values = {"sheet_resistance": rs}
        units = {"sheet_resistance": "Ohm/sq"}
        if with_thickness:
            t = self._bench.world.measure_thickness(f, self._rng)
            values.update(thickness=t, conductivity=1e7 / (rs * t))
            units.update(thickness="nm", conductivity="S/cm")
        return Reading(film=film, station=self.name, values=values, units=units)
