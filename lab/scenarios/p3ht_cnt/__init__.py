"""The P3HT/CNT scenario: five-component blends drop-cast as films, measured optically and by 4-point probe.

Modules: `scenario` (the `Scenario`), `scenario.yaml` (its scenario file: space, recipe, route, formulas, objectives), `simulated` (stations in direct Python),
`bench_stations` (its stations on the drivers, emulated or real), `commands` (`lab world`),
`graph_belief` (the conductivity belief through sheet resistance and thickness), and its world: `landscape` (the
calibrated conductivity landscape), `world` (films, measurements, failures, prices), `calibration` (fitting the
landscape on real films), `campaign_table` (campaign-like tables of simulated films), `backend` (the world as the
physics of the emulated bench).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lab.scenarios.entry import ScenarioEntry

if TYPE_CHECKING:
    from lab.scenarios.p3ht_cnt.scenario import P3HTCNTScenario


def build(seed: int, thickness_fraction: float = 1.0, hardware: str = "simulated",
          hardware_config: str | Path | None = None, faults: float | None = None,
          conductivity_model: str = "graph", thickness_rule: str = "per_recipe") -> P3HTCNTScenario:
    """The P3HT/CNT scenario on simulated stations, or on the drivers (emulated instruments, or the bench file's).

    `hardware="emulated"` starts emulators of `hardware_config` (default: the drivers' shipped example), with
    `faults` overriding the file's fault rate; `hardware="hardware"` opens the drivers on the bench file's ports.
    """
    from lab.scenarios.p3ht_cnt.scenario import P3HTCNTScenario

    from lab.seeds import integer

    stations = None
    if hardware == "emulated":
        from lab.scenarios.p3ht_cnt.bench_stations import emulated_stations
        from lab.stations.hardware_setup import load_hardware_setup

        setup = load_hardware_setup(hardware_config)
        if faults is not None:
            setup = setup.with_fault_rate(faults, integer(seed, "faults"))
        stations = emulated_stations(setup)
    elif hardware == "hardware":
        from lab.scenarios.p3ht_cnt.bench_stations import hardware_stations
        from lab.stations.hardware_setup import load_hardware_setup

        stations = hardware_stations(load_hardware_setup(hardware_config))
    return P3HTCNTScenario(
        seed=seed, thickness_fraction=thickness_fraction, stations=stations, conductivity_model=conductivity_model,
        thickness_rule=thickness_rule,
    )


ENTRY = ScenarioEntry(
    name="p3ht-cnt",
    description="P3HT/CNT blends drop-cast as films: maximize conductivity, minimize material cost",
    samples_per_recipe=6,  # droplets cast from one mix
    build=build,
    hardware=("simulated", "emulated", "hardware"),
    commands={"world": "lab.scenarios.p3ht_cnt.commands:app"},
    tools={"bench_backend": "lab.scenarios.p3ht_cnt.bench_stations:bench_backend"},
)
