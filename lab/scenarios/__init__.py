"""Scenarios of the lab (what is optimized, how samples are made and measured), by name."""

from __future__ import annotations

from pathlib import Path

from lab.errors import ConfigError
from lab.scenarios.base import MeasurementStep, Scenario

SCENARIOS = ("p3ht-cnt", "electrode")


def build_scenario(
    name: str,
    seed: int,
    thickness_fraction: float = 1.0,
    hardware: str = "simulated",
    hardware_config: str | Path | None = None,
    faults: float | None = None,
    conductivity_model: str = "graph",
) -> Scenario:
    """The scenario called `name`, seeded; `ConfigError` naming the known ones otherwise.

    `electrode` is simulated only (its world is the P2D surrogate); `thickness_fraction` and the hardware
    options apply to `p3ht-cnt`.

    `hardware="emulated"` runs its stations through the drivers against emulated instruments, started from
    `hardware_config` (default: the drivers' shipped example), with `faults` (a per-reply fault rate)
    overriding the file's `faults` section; call `scenario.close()` to stop them. `hardware="hardware"` opens
    the drivers on the bench file's ports (real instruments, or emulators served by `lab emulate`).
    """
    if hardware not in ("simulated", "emulated", "hardware"):
        raise ConfigError(f"hardware: unknown {hardware!r}; choose simulated, emulated or hardware")
    if name == "p3ht-cnt":
        from lab.scenarios.p3ht_cnt.scenario import P3HTCNTScenario

        stations = None
        if hardware == "emulated":
            from lab.stations.emulated import emulated_stations
            from lab.stations.hardware_setup import load_hardware_setup

            setup = load_hardware_setup(hardware_config)
            if faults is not None:
                setup = setup.with_fault_rate(faults, seed)
            stations = emulated_stations(setup)
        elif hardware == "hardware":
            from lab.stations.hardware_lab import hardware_stations
            from lab.stations.hardware_setup import load_hardware_setup

            stations = hardware_stations(load_hardware_setup(hardware_config))
        return P3HTCNTScenario(
            seed=seed, thickness_fraction=thickness_fraction, stations=stations, conductivity_model=conductivity_model
        )
    if name == "electrode":
        if hardware != "simulated":
            raise ConfigError(f"hardware: {hardware!r} applies only to scenario p3ht-cnt; electrode runs simulated")
        from lab.scenarios.electrode.scenario import ElectrodeScenario

        return ElectrodeScenario(seed=seed)
    raise ConfigError(f"scenario: unknown {name!r}; choose one of {', '.join(SCENARIOS)}")


__all__ = ["MeasurementStep", "Scenario", "SCENARIOS", "build_scenario"]
