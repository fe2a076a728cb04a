"""The electrode scenario: NMC cathode recipes made on a coating + calendering line and tested on a cycler.

Modules: `scenario` (the `Scenario`), `line` (the simulated line and cycler), `report` (its report sections),
`commands` (`lab p2d`), and
its world: `microstructure` (recipe -> porosity, thickness, tortuosity, conductivity, loading), `space` (the recipe
space, manufacturability, space-filling draws), `p2d` (DFN half-cell simulation, energy and power density),
`sweep` (parallel sweeps on Dask written as a data set), `surrogate` (graph-GP surrogate of P2D), `world` (the
campaigns' world: exact microstructure + surrogate), `front` (its best-known Pareto front), `world_cache`
(the shipped surrogate hyperparameters and front). PyBaMM is imported only when a simulation runs
(optional extra `[p2d]`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import ConfigError
from lab.scenarios.entry import ScenarioEntry

if TYPE_CHECKING:
    from lab.scenarios.electrode.scenario import ElectrodeScenario


def build(seed: int, thickness_fraction: float = 1.0, hardware: str = "simulated",
          hardware_config: str | Path | None = None, faults: float | None = None,
          conductivity_model: str = "graph", thickness_rule: str = "per_recipe") -> ElectrodeScenario:
    """The electrode scenario, simulated only (its world is the P2D surrogate); the other options do not apply."""
    if hardware != "simulated":
        raise ConfigError(f"hardware: {hardware!r} is not available for scenario electrode; it runs simulated only")
    from lab.scenarios.electrode.scenario import ElectrodeScenario

    return ElectrodeScenario(seed=seed)


ENTRY = ScenarioEntry(
    name="electrode",
    description="NMC cathode recipes coated, calendered and cycled: maximize energy and power density",
    samples_per_recipe=1,  # the line makes one cell per recipe per day (a batch of 40 is 40 recipes x 1 cell)
    build=build,
    commands={"p2d": "lab.scenarios.electrode.commands:app"},
)
