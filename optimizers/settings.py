"""Configuration of a proposal: the lab's batch layout, its dispensing limits and the search knobs."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizers.errors import SearchSpaceError
from optimizers.mixture import snap_to_dispensable


class DispenseLimits(BaseModel):
    """Mixtures are realised as volumes of stock solutions: components below `min_volume_ul` are dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: tuple[str, ...]
    mix_volume_ul: float = Field(100.0, gt=0)
    min_volume_ul: float = Field(0.05, ge=0)
    total: float = Field(100.0, gt=0)

    def snap_recipes(self, names: Sequence[str], X: np.ndarray, upper: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Recipes `X` (`n x d`, columns `names`) with their components snapped to dispensable volumes.

        The one definition of snapping (proposals, the campaign, every maker): components below the minimum
        volume go to 0 and the rest is renormalised to `total` within `upper` (the components' upper bounds).

        Returns:
            The snapped recipes and a mask of the rows snapping changed.
        """
        missing = [c for c in self.components if c not in names]
        if missing:
            raise SearchSpaceError(f"dispense.components: {missing} are not parameters {list(names)}")
        cols = [list(names).index(c) for c in self.components]
        X = np.array(X, dtype=float, copy=True)
        if len(X) == 0:
            return X, np.zeros(0, dtype=bool)
        res = snap_to_dispensable(np.clip(X[:, cols], 0.0, None), mix_volume_ul=self.mix_volume_ul,
                                  min_volume_ul=self.min_volume_ul, total=self.total,
                                  upper=None if upper is None else np.asarray(upper)[cols])
        X[:, cols] = res.fractions
        return X, res.snapped

    def check_dispensable(self, recipe: Mapping[str, float]) -> None:
        """Raise `SearchSpaceError` naming a component the pumps cannot dispense (above 0, below the minimum).

        The check behind recipes a person writes (an edited proposal): what `snap_recipes` would change is
        refused rather than silently changed.
        """
        amounts = {c: float(recipe[c]) for c in self.components if c in recipe}
        total = sum(amounts.values())
        if total <= 0:
            raise SearchSpaceError(f"recipe: the mixture {list(self.components)} sums to {total:g}, not a mix")
        for c, v in amounts.items():
            volume = v / total * self.mix_volume_ul
            if 0 < volume < self.min_volume_ul * (1 - 1e-9):
                least = self.min_volume_ul / self.mix_volume_ul * self.total
                raise SearchSpaceError(
                    f"recipe: {c}={v:g} is {volume:.3g} uL of a {self.mix_volume_ul:g} uL mix, below the pumps' "
                    f"minimum of {self.min_volume_ul:g} uL: set it to 0 or at least {least:.3g}")

    def mix(self, recipe: Mapping[str, float]) -> tuple[np.ndarray, dict[str, float]]:
        """One mix of `recipe`: its snapped component amounts (`components` order) and volumes [uL] per component."""
        fractions = np.array([[float(recipe[c]) for c in self.components]])
        res = snap_to_dispensable(fractions, mix_volume_ul=self.mix_volume_ul, min_volume_ul=self.min_volume_ul,
                                  total=self.total)
        return res.fractions[0], dict(zip(self.components, res.volumes_ul[0].tolist()))


class BatchLayout(BaseModel):
    """How a day's films map to recipes: each recipe is made `replicates` times, at most `max_recipes` recipes.

    The one definition of a batch's layout (the campaign's days and `lab propose` both use it): a batch of `N`
    rows holds `k = min(ceil(N / replicates), max_recipes)` distinct recipes; each is made
    `max(replicates, ceil(N / k))` times and the last takes what is left (e.g. 160 films, 6 droplets ->
    27 recipes: 26 x 6 and 1 x 4).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicates: int = Field(1, ge=1, le=1000, description="films cast from one recipe")
    max_recipes: int | None = Field(None, ge=1, description="cap on distinct recipes per batch")

    def recipes_for(self, batch: int) -> int:
        """Number of distinct recipes in a batch of `batch` rows."""
        k = -(-batch // self.replicates)
        return min(k, self.max_recipes) if self.max_recipes is not None else k

    def copies(self, batch: int) -> list[int]:
        """How many rows each distinct recipe gets, in slot order (sums to `batch`)."""
        k = self.recipes_for(batch)
        per = max(self.replicates, -(-batch // k))
        return [per] * (k - 1) + [batch - per * (k - 1)]


#: Largest paths x candidates of the default sample counts (a pool of 1e5 rows gets 64 paths, not 128).
MAX_PATH_VALUES = 2**23


class ProposalSettings(BaseModel):
    """Knobs of the default (Thompson sampling + hypervolume) batch proposal and of the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pool_size: int = Field(4000, ge=100, description="uniform feasible candidates")
    local_pool_size: int = Field(4000, ge=0, description="candidates near the estimated Pareto set")
    local_centers: int = Field(40, ge=1, description="how many estimated Pareto-optimal recipes seed the local pool")
    n_samples: int | None = Field(
        None, ge=1, le=1024, description="posterior sample paths per objective (default: `samples_for`)"
    )
    refine_rounds: int = Field(3, ge=0, le=10, description="rounds of Pareto-set search around the sampled fronts")
    refine_size: int = Field(3000, ge=0, description="candidates added per refinement round")
    min_success: float = Field(0.5, ge=0.0, le=1.0, description="candidates below this P(success) are dropped")
    max_fit_points: int | None = Field(250, ge=20, description="recipes used to fit GP hyperparameters")
    fit_maxiter: int | None = Field(None, ge=1, description="cap on L-BFGS iterations of each GP fit (None: botorch's)")
    exact_max_batch: int = Field(
        4, ge=0, description="default: batches of at most this many recipes use exact qLogNEHVI (0: never)"
    )
    exact_max_observations: int = Field(
        200, ge=0, description="default: ... and only while at most this many recipes are measured (its cost grows with n)"
    )
    exact_max_choices: int = Field(
        5000, ge=0, description="default: ... and, choosing from a pool of candidates, only while it has at most this many rows"
    )
    candidate_tolerance: float = Field(
        1e-6, ge=0.0, le=0.5,
        description="a pool row counts as already measured or pending within this share of each parameter's range",
    )
    reference_restarts: int = Field(4, ge=1, description="reference: restarts of each acquisition optimization")
    reference_raw_samples: int = Field(256, ge=8, description="reference: raw samples for initial conditions")
    reference_mc_samples: int = Field(128, ge=8, description="reference: QMC samples of qLogNEHVI")
    reference_maxiter: int = Field(200, ge=1, description="reference: L-BFGS iterations per slot's optimization")

    def exact_for(self, q: int, n_measured: int) -> bool:
        """Whether the default strategy hands a batch of `q` recipes from `n_measured` recipes to exact qLogNEHVI.

        Measured (`benchmarks/compare_strategies.py`, q = 4): sample-path Thompson picks explore the
        corners of a sparsely observed space (DTLZ2 in 4-D), where exact qLogNEHVI does not; at such
        sizes the exact batch also costs only seconds.
        """
        return q <= self.exact_max_batch and n_measured <= self.exact_max_observations

    def samples_for(self, q: int, n_candidates: int = 0) -> int:
        """Sample paths per objective for a batch of `q` recipes: more draws when each pick weighs more, and
        (halved down to 32) no more than keep `paths x candidates <= 2^23` on a large pool (1e5 rows: 64)."""
        if self.n_samples is not None:
            return self.n_samples
        n = 128 if q <= 32 else 64
        while n > 32 and n * n_candidates > MAX_PATH_VALUES:
            n //= 2
        return n
