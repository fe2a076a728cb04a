"""Scenarios of the lab (what is optimized, how samples are made and measured), by name."""

from __future__ import annotations

from lab.errors import ConfigError
from lab.scenarios.base import FilmOutcome, Scenario

SCENARIOS = ("p3ht-cnt",)


def build_scenario(name: str, seed: int, thickness_fraction: float = 1.0) -> Scenario:
    """The scenario called `name`, seeded; `ConfigError` naming the known ones otherwise."""
    if name == "p3ht-cnt":
        from lab.scenarios.p3ht_cnt import P3HTCNTScenario

        return P3HTCNTScenario(seed=seed, thickness_fraction=thickness_fraction)
    raise ConfigError(f"scenario: unknown {name!r}; choose one of {', '.join(SCENARIOS)}")


__all__ = ["FilmOutcome", "Scenario", "SCENARIOS", "build_scenario"]
