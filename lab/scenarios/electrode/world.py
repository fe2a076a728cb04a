"""The electrode world of campaigns: exact microstructure from the recipe, P2D performance from the surrogate.

Campaigns cannot afford PyBaMM (~1 s per recipe, ~0.8 CPU-s); they use the graph-GP surrogate fitted on the
shipped sweep (`surrogate.P2DSurrogate`, r2 > 0.9999 on fresh P2D runs, ~ms per recipe). The world's truth of a
recipe is then: the microstructure (`microstructure.build_microstructure`, exact) and the surrogate's mean
energy and power density. The world also knows the best outcomes it allows (`best_known_front`, see
`front.py`). The surrogate's hyperparameters and the front come from the shipped cache (`world_cache.py`)
when its provenance matches, else they are computed on first use.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.scenarios.electrode.front import search_best_known_front
from lab.scenarios.electrode.microstructure import MicrostructureConstants, build_microstructure
from lab.scenarios.electrode.space import RECIPE_COLUMNS
from lab.scenarios.electrode.surrogate import OBJECTIVE_SCALES, P2DSurrogate, default_dataset_path
from lab.scenarios.electrode.world_cache import (
    data_fingerprint,
    decode_hyperparameters,
    default_cache_path,
    encode_hyperparameters,
    read_section,
)

log = logging.getLogger(__name__)

#: Microstructure quantities a campaign records per cell (units in `QUANTITY_UNITS`).
MICROSTRUCTURE_QUANTITIES = ("porosity", "thickness_um", "loading_mg_cm2", "areal_capacity_mAh_cm2")
#: Objectives (both maximized), from the data set's card.
OBJECTIVES = tuple(OBJECTIVE_SCALES)
#: Unit of every quantity of the world (`datasets/electrode_p2d/CARD.md`).
QUANTITY_UNITS = {
    "energy_density": "Wh/L",
    "power_density": "W/L",
    "utilisation_high": "",
    "porosity": "",
    "thickness_um": "um",
    "loading_mg_cm2": "mg/cm2",
    "areal_capacity_mAh_cm2": "mAh/cm2",
}
#: Size and seed of the dense feasible sample searched for the best-known front (fixed: the same for every
#: campaign, so hypervolume fractions of different campaigns compare).
DENSE_SAMPLES = 20_000
DENSE_SEED = 20_231


class ElectrodeWorld:
    """Recipe (active material wt %, solid content wt %, calendering %) -> microstructure and performance.

    Args:
        data: The P2D data set the surrogate is fitted on (default: the shipped `sweep.csv`).
        constants: Microstructure constants (must be those the data set was simulated with).
        dense_samples: Size of the dense feasible sample of the front search.
        dense_seed: Seed of that sample and of the refinement.
        use_cache: Take the hyperparameters and the front from the cache when its provenance matches.
        cache_path: The cache file (default: the shipped `datasets/electrode_p2d/world_cache.json`).
    """

    def __init__(
        self,
        data: pd.DataFrame | None = None,
        constants: MicrostructureConstants | None = None,
        dense_samples: int = DENSE_SAMPLES,
        dense_seed: int = DENSE_SEED,
        use_cache: bool = True,
        cache_path: Path | None = None,
    ) -> None:
        self._data = data
        self.constants = constants or MicrostructureConstants()
        self.dense_samples = dense_samples
        self.dense_seed = dense_seed
        self.cache_path = (cache_path or default_cache_path()) if use_cache else None
        self._unfitted = P2DSurrogate(constants=self.constants)

    @cached_property
    def data(self) -> pd.DataFrame:
        """The P2D data set (read on first use)."""
        if self._data is not None:
            return self._data
        path = default_dataset_path()
        if not path.exists():
            raise ConfigError(f"electrode data set {path} not found; run `lab p2d sweep` (datasets/electrode_p2d/CARD.md)")
        return pd.read_csv(path)

    @cached_property
    def data_fingerprint(self) -> str:
        """SHA-256 of the data set's recipe, objective and status columns."""
        return data_fingerprint(self.data)

    def surrogate_provenance(self) -> dict:
        """What the fitted hyperparameters depend on: the data and the surrogate's settings."""
        sur = self._unfitted
        return {"data": self.data_fingerprint, "max_train_rows": sur.max_train_rows,
                "max_fit_rows": sur.max_fit_rows, "seed": sur.seed, "constants": self.constants.model_dump(mode="json")}

    def front_provenance(self) -> dict:
        """What the best-known front depends on: the surrogate's provenance and the search settings."""
        from lab.scenarios.electrode import front

        return {"surrogate": self.surrogate_provenance(), "dense_samples": self.dense_samples,
                "dense_seed": self.dense_seed, "refine": [front.REFINE_ROUNDS, front.REFINE_PER_POINT,
                                                          list(front.REFINE_RADII)]}

    @cached_property
    def surrogate(self) -> P2DSurrogate:
        """The P2D surrogate: conditioned with the cached hyperparameters, or fitted (a few seconds)."""
        cached = read_section(self.cache_path, "surrogate", self.surrogate_provenance())
        if cached is None and self.cache_path is not None:
            log.info("electrode world cache %s does not match the data/settings: fitting the surrogate", self.cache_path)
        hyper = decode_hyperparameters(cached["hyperparameters"]) if cached is not None else None
        return self._unfitted.fit(self.data, hyperparameters=hyper)

    def surrogate_cache_section(self) -> dict:
        """The cache section of the fitted surrogate (provenance and hyperparameters)."""
        return {"provenance": self.surrogate_provenance(),
                "hyperparameters": encode_hyperparameters(self.surrogate.hyperparameters_)}

    def true_properties(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free objectives, high-rate utilisation and microstructure of recipes `X` (`n x 3`,
        `RECIPE_COLUMNS` order): `n` rows."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1] != len(RECIPE_COLUMNS):
            raise ConfigError(f"recipes: expected {len(RECIPE_COLUMNS)} columns {RECIPE_COLUMNS}, got {X.shape[1]}")
        frame = pd.DataFrame(X, columns=list(RECIPE_COLUMNS))
        out = self.surrogate.predict(frame)
        micro = build_microstructure(X[:, 0], X[:, 1], X[:, 2], self.constants)
        for q in MICROSTRUCTURE_QUANTITIES:
            out[q] = getattr(micro, q)
        return out.reset_index(drop=True)

    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free `energy_density` [Wh/L] and `power_density` [W/L] of recipes `X` (`n x 3`)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if len(X) == 0:
            return pd.DataFrame({o: np.zeros(0) for o in OBJECTIVES})
        frame = pd.DataFrame(X, columns=list(RECIPE_COLUMNS))
        return self.surrogate.predict(frame)[list(OBJECTIVES)].reset_index(drop=True)

    @cached_property
    def best_known_front(self) -> pd.DataFrame:
        """The world's best-known Pareto front (recipe, objectives, `source`), by increasing power density."""
        cached = read_section(self.cache_path, "front", self.front_provenance())
        if cached is not None:
            self.front_counts_ = dict(cached["evaluated"])
            return pd.DataFrame(cached["points"])
        if self.cache_path is not None:
            log.info("electrode world cache %s does not match: searching the best-known front", self.cache_path)
        front, self.front_counts_ = search_best_known_front(
            self.true_objectives_frame, self.data, self.dense_samples, self.dense_seed, self.constants
        )
        return front

    def front_cache_section(self) -> dict:
        """The cache section of the best-known front (provenance, points, points evaluated per source)."""
        front = self.best_known_front
        return {"provenance": self.front_provenance(), "evaluated": self.front_counts_,
                "points": front.to_dict(orient="records")}

    def true_objectives_frame(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """`true_objectives` of a recipe frame (columns `RECIPE_COLUMNS`), indexed like it."""
        out = self.true_objectives(recipes[list(RECIPE_COLUMNS)].to_numpy(dtype=float))
        out.index = recipes.index
        return out
