"""The three hardware stations on one bench, opened and prepared together, for the components the caller names.

    lab = HardwareLab.open(setup, components=scenario.dispense.components, thickness_fraction=0.2, thickness_rng=rng)
    try:
        results = lab.maker.cast({"p3ht": 60, ...}, keys)
        reading = lab.optical.measure(keys[0])
    finally:
        lab.close()
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from lab.errors import ConfigError
from lab.stations.base import StationSet
from lab.stations.hardware import HardwareConductivityStation, HardwareDropCaster, HardwareOpticalStation
from lab.stations.hardware_setup import HardwareSetup
from lab.stations.instruments import Instruments, attempt
from lab.stations.motion import Head, WaferMap


@dataclass
class HardwareLab:
    """Open instruments, the shared gantry head and wafer map, and the stations built on them."""

    setup: HardwareSetup
    instruments: Instruments
    head: Head
    wafer_map: WaferMap
    maker: HardwareDropCaster
    optical: HardwareOpticalStation
    electrical: HardwareConductivityStation

    @classmethod
    def open(cls, setup: HardwareSetup, components: Sequence[str], thickness_fraction: float = 1.0,
             thickness_rng: np.random.Generator | None = None,
             manual_thickness: Callable[[], float] | None = None, total: float = 100.0) -> HardwareLab:
        """Open every instrument, home the gantry, configure the pumps, and build the stations.

        Raises:
            DriverError: an instrument cannot be opened or prepared (everything opened is closed again).
        """
        missing = [c for c in components if c not in setup.stations.stocks]
        if missing:
            raise ConfigError(f"stations.stocks: no pump stock for component(s) {missing}")
        instruments = Instruments.open(setup.hardware, manual_thickness)
        try:
            settings = setup.stations
            head = Head(instruments.gantry, setup.hardware.gantry, settings.attempts)
            head.prepare()
            reset = attempt(instruments.mixer.take_reset_alarms, settings.attempts)
            attempt(instruments.mixer.configure, settings.attempts)
            wafer_map = WaferMap(setup.hardware.wafer)
            maker = HardwareDropCaster(instruments, head, wafer_map, settings, components, total)
            maker.pumps_reset = set(reset)  # seen on opening: a cast lost before is of unknown volume
            optical = HardwareOpticalStation(instruments, head, wafer_map, settings)
            electrical = HardwareConductivityStation(instruments, head, wafer_map, settings, thickness_fraction,
                                                     thickness_rng)
        except BaseException:
            instruments.close()
            raise
        return cls(setup, instruments, head, wafer_map, maker, optical, electrical)

    def film_failures(self) -> dict[str, dict[str, int]]:
        """Films each station failed, per reason kind."""
        return {"drop_casting": dict(self.maker.failures), "optical": dict(self.optical.failures),
                "conductivity": dict(self.electrical.failures)}

    def detections(self) -> Counter[str]:
        """Faults the drivers detected, per kind."""
        return self.instruments.detections()

    def diagnostics(self) -> dict:
        """Detected faults, film failures per station and reason, gantry homings."""
        return {"hardware": {"detected": dict(self.detections()), "film_failures": self.film_failures(),
                             "gantry_homings": self.head.homings}}

    def close(self) -> None:
        """Lift the head and close every instrument (each put in its safe state)."""
        self.head.lift()
        self.instruments.close()

    def station_set(self) -> StationSet:
        """The stations as a scenario uses them."""
        return StationSet(self.maker, self.optical, self.electrical, self.diagnostics, self.close)
