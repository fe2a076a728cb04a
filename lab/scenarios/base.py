"""What a campaign needs from a scenario: a space, a way to make and measure recipes, and the truth."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.records import FilmKey, Reading
from lab.stations.base import DropCastingStation
from optimizers.propose import DispenseLimits, KnownObjective
from optimizers.search_space import SearchSpace
from models.belief import Belief


@dataclass(frozen=True)
class MeasurementStep:
    """One measuring station in a sample's route: the state a sample reaches after it, and how to measure."""

    state: str
    measure: Callable[[FilmKey], Reading]
    #: quantities every successful reading of this step carries (checked by `lab.store.integrity`)
    quantities: tuple[str, ...] = ()


class Scenario(ABC):
    """A use case of the lab: its search space, how a recipe becomes measured samples, and its world."""

    name: str
    space: SearchSpace
    dispense: DispenseLimits | None = None
    #: unit of each measured or true quantity, for the store and reports
    units: Mapping[str, str] = {}
    #: extra per-sample columns of `history.csv` that `objective_frame` adds (e.g. the distance to the data)
    annotations: tuple[str, ...] = ()
    #: what `hypervolume_space` measures in, in words, for `summary.json` (None: not stated)
    hypervolume_space_description: str | None = None
    #: a pool of candidate recipes every batch is drawn from (the scenario file's `candidates:`), or None
    candidates: pd.DataFrame | None = None

    @property
    def known_objectives(self) -> dict[str, KnownObjective]:
        """Objectives computed exactly from the recipe (not modelled)."""
        return {}

    @property
    def log_quantities(self) -> tuple[str, ...]:
        """Quantities the models take the log of, so every reading must be > 0 (default: log-scale objectives)."""
        return tuple(o.name for o in self.space.objectives if o.scale == "log")

    #: the station that makes samples from a recipe (mix + cast for films)
    maker: DropCastingStation
    #: the measuring stations each made sample visits, in order
    steps: Sequence[MeasurementStep] = ()

    @abstractmethod
    def truth(self, recipe: Mapping[str, float]) -> dict[str, float]:
        """The world's noise-free values of every quantity for `recipe` (for `true_<name>` columns)."""

    @abstractmethod
    def objective_frame(self, history: pd.DataFrame) -> pd.DataFrame:
        """Objective columns (one per objective, NaN where unmeasured) of each history row."""

    @abstractmethod
    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free objective values of recipes `X` (`n x d`)."""

    def true_quantities(self, X: np.ndarray) -> pd.DataFrame:
        """The world's noise-free value of every quantity and objective of recipes `X` (`n x d`), one row each.

        Default: `truth` of each recipe, with the objectives `true_objectives` gives where `truth` lacks them.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        frame = pd.DataFrame([self.truth(dict(zip(self.space.names, row.tolist()))) for row in X])
        objectives = self.true_objectives(X)
        for name in objectives.columns:
            if name not in frame:
                frame[name] = objectives[name].to_numpy()
        return frame

    #: what `distance_to_data` measures, in words (None: the world knows no data)
    distance_description: str | None = None

    def distance_to_data(self, X: np.ndarray) -> np.ndarray | None:
        """Each recipe's distance to the data the world was calibrated on (`distance_description`), or None."""
        return None

    @abstractmethod
    def world_optimum(self) -> dict[str, float]:
        """The best value the world allows for each objective on its own."""

    @property
    def best_known_hypervolume(self) -> float | None:
        """Hypervolume of the world's true (or best-known) Pareto front above `hypervolume_reference()`, in
        the space of `hypervolume_space`; the campaign's hypervolume regret is measured from it (None: unknown)."""
        return None

    def hypervolume_space(self, objectives: pd.DataFrame) -> np.ndarray:
        """Objective values mapped to the space the hypervolume is measured in (every column maximized)."""
        return np.stack([o.oriented(objectives[o.name].to_numpy(dtype=float), log=np.log10)
                         for o in self.space.objectives], axis=1)

    def objective_models(self, history: pd.DataFrame) -> dict[str, Belief]:
        """Objectives this scenario models itself from the full history (e.g. through a graph of GPs)."""
        return {}

    def diagnostics(self) -> dict:
        """Extra figures for `summary.json` (e.g. injected and detected faults of emulated hardware)."""
        return {}

    def summary_figures(self, summary: dict) -> dict:
        """Scenario-specific figures for `summary.json`, derived from the runner's `summary` (e.g. the
        hypervolume per day as a fraction of the world's best-known front); entries override the runner's."""
        return {}

    def report_sections(self, history: pd.DataFrame, summary: dict) -> list[tuple[str, str]]:
        """Scenario-specific sections of `report.html`, as (heading, HTML body) pairs, after the common ones."""
        return []

    def close(self) -> None:
        """Release stations and hardware (emulators, serial ports); a no-op for pure simulation."""

    def hypervolume_reference(self) -> np.ndarray:
        """The reference point of the hypervolume, in the space of `hypervolume_space`.

        The one definition: the space's objective references (`Objective.reference`, raw units), so the
        optimizer aims at the very point the campaign is scored against.
        """
        missing = [o.name for o in self.space.objectives if o.reference is None]
        if missing:
            raise ConfigError(f"objectives.{missing[0]}.reference: the scenario's space needs a reference to score by")
        return self.hypervolume_space(pd.DataFrame([{o.name: o.reference for o in self.space.objectives}]))[0]
