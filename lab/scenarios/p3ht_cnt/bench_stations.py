"""The P3HT/CNT scenario's stations on the drivers: emulated instruments backed by its world, or the bench's own.

The generic parts (`lab.stations.emulated.EmulatedLab`, `lab.stations.hardware_lab.HardwareLab`) take the
physics and the component names from here: the world becomes the emulators' `BenchBackend`, and the components
are the scenario's dispensed ones.
"""

from __future__ import annotations

from typing import Callable, Sequence


from lab.scenarios.p3ht_cnt.backend import P3HTCNTBackend
from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld
from lab.seeds import generator, integer
from lab.stations.base import StationSet
from lab.stations.emulated import EmulatedLab
from lab.stations.hardware_lab import HardwareLab
from lab.stations.hardware_setup import HardwareSetup

#: Builds the scenario's stations from (world, seed, thickness_fraction, components).
StationFactory = Callable[[P3HTCNTWorld, int, float, Sequence[str]], StationSet]



def bench_backend(setup: HardwareSetup, seed: int = 0, world: P3HTCNTWorld | None = None) -> P3HTCNTBackend:
    """The world (default: the shipped calibration) as the physics of `setup`'s emulated bench, seeded by `seed`."""
    world = world if world is not None else P3HTCNTWorld.default()
    return P3HTCNTBackend(world, setup.stations.stocks, seed=seed,
                          probe_correction=setup.hardware.probe.correction_factor)


def emulated_lab(setup: HardwareSetup, world: P3HTCNTWorld, components: Sequence[str], seed: int = 0,
                 thickness_fraction: float = 1.0) -> EmulatedLab:
    """Emulators of `setup` around `world` and the hardware stations on them, seeded like a campaign of `seed`."""
    backend = bench_backend(setup, integer(seed, "emulated-backend"), world)
    return EmulatedLab(setup, backend, components, seed, thickness_fraction)


def emulated_stations(setup: HardwareSetup) -> StationFactory:
    """A stations factory for `P3HTCNTScenario`: the hardware stations on emulators of `setup`."""

    def build(world: P3HTCNTWorld, seed: int, thickness_fraction: float, components: Sequence[str]) -> StationSet:
        return emulated_lab(setup, world, components, seed, thickness_fraction).station_set()

    return build


def hardware_stations(setup: HardwareSetup) -> StationFactory:
    """A stations factory for `P3HTCNTScenario`: the hardware stations on the bench file's instruments.

    The world is not used (the instruments measure real films); `seed` seeds which films are profiled.
    """

    def build(_world: P3HTCNTWorld, seed: int, thickness_fraction: float, components: Sequence[str]) -> StationSet:
        rng = generator(seed, "thickness-choice")
        return HardwareLab.open(setup, components, thickness_fraction, rng).station_set()

    return build
