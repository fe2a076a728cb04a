"""Scenarios of the lab (what is optimized, how samples are made and measured), by name."""

from __future__ import annotations

from pathlib import Path

from lab.errors import ConfigError
from lab.scenarios.base import MeasurementStep, Scenario

SCENARIOS = ("p3ht-cnt",)


def build_scenario(
    name: str,
    seed: int,
    thickness_fraction: float = 1.0,
    hardware: str = "simulated",
    hardware_config: str | Path | None = None,
    faults: float | None = None,
) -> Scenario:
    """The scenario called `name`, seeded; `ConfigError` naming the known ones otherwise.

    `hardware="emulated"` runs its stations through the drivers against emulated instruments, started from
    `hardware_config` (default: the drivers' shipped example), with `faults` (a per-reply fault rate)
    overriding the file's `faults` section; call `scenario.close()` to stop them.
    """
    if hardware not in ("simulated", "emulated"):
        raise ConfigError(f"hardware: unknown {hardware!r}; choose simulated or emulated")
    if name == "p3ht-cnt":
        from lab.scenarios.p3ht_cnt import P3HTCNTScenario

        stations = None
        if hardware == "emulated":
            from lab.stations.emulated import emulated_stations
            from lab.stations.hardware_setup import load_hardware_setup

            setup = load_hardware_setup(hardware_config)
            if faults is not None:
                setup = setup.with_fault_rate(faults, seed)
            stations = emulated_stations(setup)
        return P3HTCNTScenario(seed=seed, thickness_fraction=thickness_fraction, stations=stations)
    raise ConfigError(f"scenario: unknown {name!r}; choose one of {', '.join(SCENARIOS)}")


__all__ = ["MeasurementStep", "Scenario", "SCENARIOS", "build_scenario"]
