"""A scenario's registry entry: what the registry knows of it without importing it (name, defaults, how to build).

Each built-in scenario package (`lab/scenarios/<package>/__init__.py`) exposes one `ScenarioEntry` as `ENTRY`;
the registry (`lab.scenarios`) finds them. An entry is light: it imports nothing heavy (torch, botorch, pybamm)
until `build` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Protocol

if TYPE_CHECKING:
    from lab.scenarios.base import Scenario

#: How a campaign may make and measure its samples (`CampaignConfig.hardware`).
HARDWARE_MODES = ("simulated", "emulated", "hardware")


class ScenarioBuilder(Protocol):
    """Builds a seeded scenario; the options are those of `lab.scenarios.build_scenario`."""

    def __call__(self, seed: int, thickness_fraction: float = 1.0, hardware: str = "simulated",
                 hardware_config: str | Path | None = None, faults: float | None = None,
                 conductivity_model: str = "graph", thickness_rule: str = "per_recipe") -> Scenario:
        ...


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario as the registry lists it.

    Attributes:
        name: The name campaigns use (`CampaignConfig.scenario`, `lab campaign run --scenario`).
        description: One line saying what is optimized and how samples are made.
        samples_per_recipe: Samples made from one recipe when a campaign does not say
            (`CampaignConfig.droplets_per_recipe`).
        build: Builds the seeded scenario (imports the heavy modules).
        hardware: The hardware modes it supports (of `HARDWARE_MODES`); it refuses the others itself.
        commands: Extra CLI command groups of the scenario: group name -> `"module:attribute"` of a `typer.Typer`,
            imported only when the `lab` command starts (`lab.cli` mounts them); the module must be light (its
            commands import the scenario's heavy modules in their bodies), as every `lab` call imports it.
        tools: Named scenario functions generic commands call (e.g. `"bench_backend"` for `lab emulate`):
            name -> `"module:attribute"`, imported on use by `ScenarioEntry.tool`.
    """

    name: str
    description: str
    samples_per_recipe: int
    build: ScenarioBuilder
    hardware: tuple[str, ...] = ("simulated",)
    commands: Mapping[str, str] = field(default_factory=dict)
    tools: Mapping[str, str] = field(default_factory=dict)

    def command_groups(self) -> dict[str, object]:
        """The scenario's CLI command groups (`typer.Typer` apps) by group name, imported now."""
        return {group: load_attribute(target) for group, target in self.commands.items()}

    def tool(self, name: str) -> Callable | None:
        """The scenario function registered as `name` (imported now), or None if it has none."""
        target = self.tools.get(name)
        return None if target is None else load_attribute(target)


def load_attribute(target: str) -> object:
    """Import `"module:attribute"` and return the attribute."""
    from importlib import import_module

    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)
