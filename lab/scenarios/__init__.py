"""The registry of scenarios: the built-in scenario packages under `lab.scenarios`, found by name.

Each subpackage of `lab.scenarios` that exposes a `ScenarioEntry` as `ENTRY` is a scenario (found with
`pkgutil`, so adding a package adds a scenario and no generic module names one). Importing the registry, or
listing it, imports only the packages' light `__init__` modules: nothing heavy (torch, botorch, pybamm) until a
scenario is built.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import ConfigError
from lab.scenarios.entry import HARDWARE_MODES, ScenarioEntry

if TYPE_CHECKING:
    from lab.scenarios.base import MeasurementStep, Scenario

#: The scenario of a campaign that names none.
DEFAULT_SCENARIO = "p3ht-cnt"


@lru_cache(maxsize=1)
def scenario_entries() -> dict[str, ScenarioEntry]:
    """Every built-in scenario's entry by name, in package order."""
    entries: dict[str, ScenarioEntry] = {}
    for info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        if not info.ispkg:
            continue
        entry = getattr(importlib.import_module(info.name), "ENTRY", None)
        if isinstance(entry, ScenarioEntry):
            entries[entry.name] = entry
    return entries


def scenario_entry(name: str) -> ScenarioEntry:
    """The entry of scenario `name`; `ConfigError` naming the known ones otherwise."""
    entries = scenario_entries()
    if name not in entries:
        raise ConfigError(f"scenario: unknown {name!r}; choose one of {', '.join(entries)}")
    return entries[name]


def check_hardware(name: str, hardware: str) -> None:
    """Refuse a hardware mode that is unknown, or that scenario `name` does not support (`ConfigError`)."""
    if hardware not in HARDWARE_MODES:
        raise ConfigError(f"hardware: unknown {hardware!r}; choose {', '.join(HARDWARE_MODES[:-1])} or {HARDWARE_MODES[-1]}")
    entry = scenario_entry(name)
    if hardware not in entry.hardware:
        others = [e.name for e in scenario_entries().values() if hardware in e.hardware]
        where = f"applies only to scenario {', '.join(others)}" if others else "is supported by no scenario"
        raise ConfigError(f"hardware: {hardware!r} {where}; {name} runs {' or '.join(entry.hardware)}")


def builtin_spec(package: str):
    """The scenario file of a built-in scenario package (`lab/scenarios/<package>/scenario.yaml`), validated."""
    from importlib import resources

    from lab.scenarios.spec import load_scenario_file

    with resources.as_file(resources.files(f"lab.scenarios.{package}") / "scenario.yaml") as path:
        return load_scenario_file(path)


def build_scenario(
    name: str,
    seed: int,
    thickness_fraction: float = 1.0,
    hardware: str = "simulated",
    hardware_config: str | Path | None = None,
    faults: float | None = None,
    conductivity_model: str = "graph",
    scenario_file: str | Path | None = None,
    thickness_rule: str = "per_recipe",
) -> Scenario:
    """The scenario called `name`, seeded; `ConfigError` naming the known ones otherwise.

    `hardware="emulated"` runs the stations through the drivers against emulated instruments, started from
    `hardware_config` (default: the drivers' shipped example), with `faults` (a per-reply fault rate)
    overriding the file's `faults` section; call `scenario.close()` to stop them. `hardware="hardware"` opens
    the drivers on the bench file's ports (real instruments, or emulators served by `lab emulate`). Which
    scenario supports which, and which use `thickness_fraction`, `thickness_rule` (`lab.stations.profiling`) and
    `conductivity_model`, its entry says.
    """
    if scenario_file is not None:
        from lab.scenarios.file_scenario import FileScenario
        from lab.scenarios.spec import load_scenario_file

        if hardware not in ("simulated", "emulated"):
            raise ConfigError(f"hardware: {hardware!r}; scenario files run simulated or emulated")
        spec = load_scenario_file(scenario_file)
        if spec.world.builtin is not None:  # a built-in's own file: run the built-in scenario (and the file's pool)
            scenario = build_scenario(spec.world.builtin, seed, thickness_fraction, hardware, hardware_config, faults,
                                      conductivity_model, thickness_rule=thickness_rule)
        else:
            hardware_config = hardware_config if hardware == "emulated" else None
            scenario = FileScenario(spec, seed, hardware, hardware_config, faults)
        scenario.candidates = spec.candidate_table()
        return scenario
    check_hardware(name, hardware)
    return scenario_entry(name).build(
        seed, thickness_fraction=thickness_fraction, hardware=hardware, hardware_config=hardware_config,
        faults=faults, conductivity_model=conductivity_model, thickness_rule=thickness_rule,
    )


def __getattr__(name: str) -> object:
    """`SCENARIOS` (the names in the registry) and the base classes, resolved on first use (they are not light)."""
    if name == "SCENARIOS":
        return tuple(scenario_entries())
    if name in ("MeasurementStep", "Scenario"):
        from lab.scenarios import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_SCENARIO", "MeasurementStep", "SCENARIOS", "Scenario", "ScenarioEntry", "build_scenario",
           "check_hardware", "scenario_entries", "scenario_entry"]
