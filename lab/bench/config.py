"""What a benchmark runs: scenarios x strategies x seeds of one campaign schedule, validated once."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lab.campaign.config import CampaignConfig
from lab.errors import ConfigError, validation_message
from lab.scenarios import DEFAULT_SCENARIO, SCENARIOS

#: Strategy names of the benchmark: the large-batch optimizer, sequential qLogNEHVI, uniform sampling.
BENCH_STRATEGIES = ("default", "reference", "random")


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign of a benchmark: small, picklable, and all a Dask worker needs to run it."""

    scenario: str
    strategy: str
    seed: int
    days: int
    batch: int

    @property
    def label(self) -> str:
        """Human-readable name, e.g. `p3ht-cnt / default / seed 2`."""
        return f"{self.scenario} / {self.strategy} / seed {self.seed}"

    @property
    def slug(self) -> str:
        """File-name-safe name, e.g. `p3ht-cnt_default_seed2`."""
        return f"{self.scenario}_{self.strategy}_seed{self.seed}"

    def campaign_config(self) -> CampaignConfig:
        """The campaign's configuration; seeded from this campaign's own seed only."""
        try:
            return CampaignConfig(
                scenario=self.scenario,
                days=self.days,
                batch=self.batch,
                seed=self.seed,
                strategy=self.strategy,
                name=f"bench-{self.slug}",
            )
        except ValidationError as exc:
            raise ConfigError(f"campaign: {validation_message(exc)}") from None


class BenchConfig(BaseModel):
    """A benchmark: every scenario x strategy x seed, each a campaign of `days` days of `batch` films."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenarios: tuple[str, ...] = Field((DEFAULT_SCENARIO,), min_length=1, description="scenario names")
    strategies: tuple[str, ...] = Field(("default", "random"), min_length=1, description="strategy names")
    seeds: int = Field(3, ge=1, le=10_000, description="campaigns per scenario and strategy")
    first_seed: int = Field(0, ge=0, description="seeds run are first_seed ... first_seed + seeds - 1")
    days: int = Field(3, ge=1, le=365, description="daily cycles per campaign")
    batch: int = Field(160, ge=1, le=5000, description="films (samples) per day")

    @field_validator("scenarios")
    @classmethod
    def _known_scenarios(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known("scenario", value, SCENARIOS)

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known("strategy", value, BENCH_STRATEGIES)

    def campaigns(self) -> list[CampaignSpec]:
        """Every campaign, ordered by scenario, strategy, then seed."""
        seeds = range(self.first_seed, self.first_seed + self.seeds)
        return [
            CampaignSpec(scenario, strategy, seed, self.days, self.batch)
            for scenario, strategy, seed in itertools.product(self.scenarios, self.strategies, seeds)
        ]


def _known(kind: str, value: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    for name in value:
        if name not in allowed:
            raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise ValueError(f"a {kind} is listed twice: {', '.join(value)}")
    return value
