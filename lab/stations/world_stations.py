"""Stations in direct Python for any world that serves named quantities: the simulated lab of scenario files.

A sample is realised once, when it is made: the world draws one noisy value of every quantity for its recipe
(`QuantityWorld.sample`), and each station of the route then reads the quantities it measures off the sample.
Every random draw comes from a generator keyed by (seed, consumer, sample) (`lab.seeds.film_rng`), so realisations and readings do not
depend on the order stations run in, and a campaign resumed after a crash re-creates exactly its samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence

import numpy as np
import pandas as pd

from lab.records import CastResult, FilmKey, Reading
from lab.seeds import film_rng
from optimizers.settings import DispenseLimits

#: Random streams of the simulated lab, one per source of randomness.
_MAKE = "make"


class QuantityWorld(Protocol):
    """A ground truth over recipes that serves noisy readings of named quantities."""

    parameters: list[str]
    quantities: list[str]

    def true_values(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free values of every quantity at recipes `X` (`n x d`, `parameters` order)."""
        ...

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """One noisy reading of every quantity per row of `X`."""
        ...


@dataclass
class WorldBench:
    """The samples on the lab's substrates, each realised by the world when it was made, keyed by `FilmKey`."""

    world: QuantityWorld
    seed: int = 0
    failure_rate: float = 0.0
    samples: dict[FilmKey, dict[str, float]] = field(default_factory=dict)

    def realise(self, key: FilmKey, x: np.ndarray) -> str | None:
        """Make one sample of recipe `x` at `key`; the failure reason if it failed, else None."""
        rng = film_rng(self.seed, _MAKE, key)
        if rng.random() < self.failure_rate:
            return "sample failed when made (simulated)"
        row = self.world.sample(np.asarray(x, dtype=float)[None, :], rng).iloc[0]
        self.samples[key] = {q: float(v) for q, v in row.items()}
        return None


class WorldMaker:
    """Mixes a recipe (volumes snapped to what the pumps dispense) and makes one sample per key."""

    def __init__(self, bench: WorldBench, parameters: Sequence[str], dispense: DispenseLimits | None) -> None:
        self.name = "maker (simulated)"
        self._bench = bench
        self._parameters = list(parameters)
        self._dispense = dispense

    def _recipe(self, recipe: Mapping[str, float]) -> tuple[np.ndarray, dict[str, float]]:
        x = np.array([float(recipe[p]) for p in self._parameters])
        if self._dispense is None:
            return x, {}
        amounts, volumes = self._dispense.mix(recipe)
        x[[self._parameters.index(c) for c in self._dispense.components]] = amounts
        return x, volumes

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Make one sample of `recipe` per key in `films`."""
        x, volumes = self._recipe(recipe)
        results = []
        for key in films:
            if key in self._bench.samples:
                raise RuntimeError(f"sample {key.sample_id} was already made")
            failure = self._bench.realise(key, x)
            results.append(CastResult(film=key, station=self.name, volumes_ul=volumes, failure=failure))
        return results

    # -- resuming after a crash (see `lab.campaign.cycle.ResumableMaker`) ----------------------------
    def prepare_cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> dict:
        """Nothing to record: a simulated sample leaves nothing behind a crash."""
        return {}

    def resolve_interrupted(self, recipe: Mapping[str, float], films: Sequence[FilmKey],
                            journal: Mapping) -> list[CastResult]:
        """Re-make samples the runner lost: every draw is keyed, so they come out the same."""
        x, volumes = self._recipe(recipe)
        return [CastResult(film=key, station=self.name, volumes_ul=volumes,
                           failure=None if key in self._bench.samples else self._bench.realise(key, x))
                for key in films]

    def restore(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> None:
        """Put samples made before a restart back on the bench."""
        if films:
            x, _ = self._recipe(recipe)
            for key in films:
                if key not in self._bench.samples:
                    self._bench.realise(key, x)


class WorldStation:
    """A measuring station of the route: reads its quantities off each sample (a `share` of samples only)."""

    def __init__(self, bench: WorldBench, kind: str, quantities: Sequence[str], share: float = 1.0,
                 stream: int = 0, optional: Mapping[str, float] | None = None) -> None:
        self.name = f"{kind} (simulated)"
        self._bench = bench
        self._quantities = tuple(quantities)
        self._share = share
        self._stream = stream
        self._optional = dict(optional or {})

    def measure(self, film: FilmKey) -> Reading:
        """The station's quantities of `film` (none when the sample is not among the `share` measured here)."""
        if self._share < 1.0 and film_rng(self._bench.seed, f"visit:{self._stream}", film).random() >= self._share:
            return Reading(film=film, station=self.name)
        sample = self._bench.samples[film]
        values = {q: sample[q] for q in self._quantities if np.isfinite(sample[q])}
        for j, (q, share) in enumerate(self._optional.items(), start=1):
            if film_rng(self._bench.seed, f"optional:{self._stream}:{q}", film).random() < share and np.isfinite(sample[q]):
                values[q] = sample[q]
        return Reading(film=film, station=self.name, values=values)
