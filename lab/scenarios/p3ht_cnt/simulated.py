"""Stations in direct Python, backed by the P3HT/CNT world: the fast default of simulated campaigns.

A `SimulatedBench` is the physical state of the lab: which film sits at which key, as realised by the
world when it was cast. Every random draw comes from a generator keyed by (seed, station, film), so a
film's realisation and its readings do not depend on the order stations run in, and a campaign resumed
after a crash re-creates exactly the films it had cast (`SimulatedBench.restore`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from lab.records import CastResult, FilmKey, Reading
from lab.scenarios.p3ht_cnt.world import COMPONENTS, Film, P3HTCNTWorld
from lab.seeds import film_rng
from lab.stations.profiling import profiles_thickness
from optimizers.settings import DispenseLimits

#: Random streams of the simulated lab, one per source of randomness.
_CAST, _OPTICAL, _ELECTRICAL, _THICKNESS_CHOICE = "cast", "optical", "electrical", "thickness-choice"


@dataclass
class SimulatedBench:
    """The films on the lab's wafers, realised by the world, keyed by `FilmKey`."""

    world: P3HTCNTWorld
    seed: int = 0
    films: dict[FilmKey, Film] = field(default_factory=dict)

    def film(self, key: FilmKey) -> Film:
        """The film at `key` (KeyError if nothing was cast there)."""
        return self.films[key]

    def realise(self, key: FilmKey, fractions: np.ndarray) -> str | None:
        """Cast one droplet of `fractions` (%) at `key`; the failure reason if it dewetted, else None."""
        rng = film_rng(self.seed, _CAST, key)
        failure = self.world.draw_failure("cast", rng)
        if failure is None:
            self.films[key] = self.world.cast_film(fractions, rng)
        return failure

    def restore(self, key: FilmKey, fractions: np.ndarray) -> None:
        """Re-create a film cast before a restart (the same film: its randomness is keyed by `key`)."""
        self.realise(key, fractions)


class SimulatedDropCaster:
    """Mixes stock-solution volumes and casts droplets; a droplet may dewet (the world's failure rate)."""

    def __init__(self, bench: SimulatedBench, mix_volume_ul: float = 100.0, min_volume_ul: float = 0.05) -> None:
        self.name = "drop-casting (simulated)"
        self._bench = bench
        self._dispense = DispenseLimits(components=COMPONENTS, mix_volume_ul=mix_volume_ul, min_volume_ul=min_volume_ul)

    def _snap(self, recipe: Mapping[str, float]) -> tuple[np.ndarray, dict[str, float]]:
        return self._dispense.mix(recipe)

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Mix `recipe` once (volumes snapped to what the pumps can dispense) and cast one droplet per key."""
        fractions, volumes = self._snap(recipe)
        results = []
        for key in films:
            if key in self._bench.films:
                raise RuntimeError(f"film {key.sample_id} was already cast")
            failure = self._bench.realise(key, fractions)
            results.append(CastResult(film=key, station=self.name, volumes_ul=volumes, failure=failure))
        return results

    # -- resuming after a crash (see `lab.campaign.cycle.ResumableMaker`) ----------------------------
    def prepare_cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> dict:
        """Nothing to record before casting: a simulated cast leaves nothing behind a crash."""
        return {}

    def resolve_interrupted(self, recipe: Mapping[str, float], films: Sequence[FilmKey], journal: Mapping) -> list[CastResult]:
        """Re-create a cast the runner lost: nothing physical survived the process, and every draw is keyed."""
        fractions, volumes = self._snap(recipe)
        results = []
        for key in films:
            failure = None if key in self._bench.films else self._bench.realise(key, fractions)
            results.append(CastResult(film=key, station=self.name, volumes_ul=volumes, failure=failure))
        return results

    def restore(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> None:
        """Put films cast before a restart back on the bench (the same films: their randomness is keyed)."""
        if not films:
            return
        fractions, _ = self._snap(recipe)
        for key in films:
            if key not in self._bench.films:
                self._bench.restore(key, fractions)


class SimulatedOpticalStation:
    """UV-vis-NIR absorbance at 525 nm and the A602/A525 ratio of a cast film."""

    def __init__(self, bench: SimulatedBench) -> None:
        self.name = "optical (simulated)"
        self._bench = bench

    def measure(self, film: FilmKey) -> Reading:
        """Measure the optical features of `film`."""
        rng = film_rng(self._bench.seed, _OPTICAL, film)
        failure = self._bench.world.draw_failure("optical", rng)
        if failure is not None:
            return Reading(film=film, station=self.name, failure=failure)
        values = self._bench.world.measure_optical(self._bench.film(film), rng)
        return Reading(film=film, station=self.name, values=values, units={"absorbance_525": "", "absorption_ratio": ""})


class SimulatedConductivityStation:
    """4-point-probe sheet resistance and, on a share of films, profilometer thickness; conductivity from both."""

    def __init__(self, bench: SimulatedBench, thickness_fraction: float = 1.0, thickness_rule: str = "per_recipe") -> None:
        self.name = "conductivity (simulated)"
        self._bench = bench
        self._thickness_fraction = thickness_fraction
        self._thickness_rule = thickness_rule

    def measure(self, film: FilmKey, with_thickness: bool | None = None) -> Reading:
        """Measure `sheet_resistance` [Ohm/sq], and `thickness` [nm] and `conductivity` [S/cm] if profiled.

        With `with_thickness=None` the station profiles `thickness_fraction` of films by its thickness rule
        (`lab.stations.profiling`; the slow, expensive measurement of the real lab).
        """
        seed = self._bench.seed
        if with_thickness is None:
            with_thickness = profiles_thickness(film, self._thickness_fraction, self._thickness_rule,
                                                film_rng(seed, _THICKNESS_CHOICE, film).random)
        f = self._bench.film(film)
        rng = film_rng(seed, _ELECTRICAL, film)
        failure = self._bench.world.draw_failure("sheet_resistance", rng)
        if failure is not None:
            return Reading(film=film, station=self.name, failure=failure)
        rs = self._bench.world.measure_sheet_resistance(f, rng)
        values = {"sheet_resistance": rs}
        units = {"sheet_resistance": "Ohm/sq"}
        if with_thickness and self._bench.world.draw_failure("thickness", rng) is None:
            t = self._bench.world.measure_thickness(f, rng)
            values.update(thickness=t, conductivity=1e7 / (rs * t))
            units.update(thickness="nm", conductivity="S/cm")
        return Reading(film=film, station=self.name, values=values, units=units)
