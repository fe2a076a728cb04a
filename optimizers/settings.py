"""Configuration of a proposal: the lab's batch layout, its dispensing limits and the search knobs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DispenseLimits(BaseModel):
    """Mixtures are realised as volumes of stock solutions: components below `min_volume_ul` are dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: tuple[str, ...]
    mix_volume_ul: float = Field(100.0, gt=0)
    min_volume_ul: float = Field(0.05, ge=0)
    total: float = Field(100.0, gt=0)


class BatchLayout(BaseModel):
    """How a day's films map to recipes: each recipe is made `replicates` times, at most `max_recipes` recipes.

    A batch of `N` rows then holds `k = min(ceil(N / replicates), max_recipes)` distinct recipes,
    each repeated `N // k` or `N // k + 1` times (e.g. 160 films, 6 droplets -> 27 recipes).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicates: int = Field(1, ge=1, le=1000, description="films cast from one recipe")
    max_recipes: int | None = Field(None, ge=1, description="cap on distinct recipes per batch")

    def recipes_for(self, batch: int) -> int:
        """Number of distinct recipes in a batch of `batch` rows."""
        k = -(-batch // self.replicates)
        return min(k, self.max_recipes) if self.max_recipes is not None else k

    def copies(self, batch: int) -> list[int]:
        """How many rows each distinct recipe gets (sums to `batch`)."""
        k = self.recipes_for(batch)
        return [batch // k + (1 if i < batch % k else 0) for i in range(k)]


class ProposalSettings(BaseModel):
    """Knobs of the default (Thompson sampling + hypervolume) batch proposal and of the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pool_size: int = Field(4000, ge=100, description="uniform feasible candidates")
    local_pool_size: int = Field(4000, ge=0, description="candidates near the estimated Pareto set")
    local_centers: int = Field(40, ge=1, description="how many estimated Pareto-optimal recipes seed the local pool")
    n_samples: int | None = Field(
        None, ge=1, le=1024, description="posterior sample paths per objective (default: 128 for q <= 32, else 64)"
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
    reference_restarts: int = Field(4, ge=1, description="reference: restarts of each acquisition optimization")
    reference_raw_samples: int = Field(256, ge=8, description="reference: raw samples for initial conditions")
    reference_mc_samples: int = Field(128, ge=8, description="reference: QMC samples of qLogNEHVI")

    def exact_for(self, q: int, n_measured: int) -> bool:
        """Whether the default strategy hands a batch of `q` recipes from `n_measured` recipes to exact qLogNEHVI.

        Measured (`benchmarks/compare_strategies.py`, q = 4): sample-path Thompson picks explore the
        corners of a sparsely observed space (DTLZ2 in 4-D), where exact qLogNEHVI does not; at such
        sizes the exact batch also costs only seconds.
        """
        return q <= self.exact_max_batch and n_measured <= self.exact_max_observations

    def samples_for(self, q: int) -> int:
        """Sample paths per objective for a batch of `q` recipes: more draws when each pick weighs more."""
        if self.n_samples is not None:
            return self.n_samples
        return 128 if q <= 32 else 64
