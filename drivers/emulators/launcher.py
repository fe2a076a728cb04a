"""Start the emulators a `HardwareConfig` names (`emulator://...` URLs) around one shared bench.

    config = load_hardware_config(example_config_path())
    with EmulatedBench(config, backend=my_world_backend, faults=FaultConfig(drop=0.05, seed=1)) as bench:
        mixer = open_mixer(bench.config.mixer, bench.config.time_scale)   # socket:// URLs now
        ...
        bench.injected()   # Counter of injected faults per kind

Each instrument gets its own `FaultInjector` (seed offset by its position) so faults are repeatable.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping

from drivers.config import EMULATOR_SCHEME, HardwareConfig, LinkConfig
from drivers.emulators.backend import BenchBackend
from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultConfig, FaultInjector
from drivers.emulators.grbl import GrblEmulator
from drivers.emulators.keithley2400 import Keithley2400Emulator
from drivers.emulators.profilometer import ProfilometerEmulator
from drivers.emulators.pump_line import PumpLineEmulator
from drivers.emulators.server import DeviceEmulator, EmulatorServer
from drivers.emulators.spectrometer import SpectrometerEmulator

INSTRUMENTS = ("mixer", "gantry", "source_meter", "spectrometer", "profilometer")


class EmulatedBench:
    """The emulated instruments of one bench, served on loopback sockets.

    Args:
        config: Hardware config whose `emulator://<instrument>` links get emulators.
        backend: Physics of the films (`SimpleBackend` if None).
        faults: One `FaultConfig` for every instrument, or one per instrument name (see `INSTRUMENTS`).
        homing_required: Whether the gantry starts locked until homed.
        dispense_log: If given, the bench appends every dispense and cast to this file (JSON lines).
    """

    def __init__(self, config: HardwareConfig, backend: BenchBackend | None = None,
                 faults: FaultConfig | Mapping[str, FaultConfig] | None = None, homing_required: bool = True,
                 dispense_log: str | Path | None = None) -> None:
        self.bench = Bench(backend, cast_z_mm=config.gantry.cast_z_mm, time_scale=config.time_scale,
                           log_path=dispense_log)
        self.injectors: dict[str, FaultInjector] = {}
        for index, name in enumerate(INSTRUMENTS):
            chosen = faults.get(name) if isinstance(faults, Mapping) else faults
            chosen = chosen or FaultConfig()
            self.injectors[name] = FaultInjector(chosen.model_copy(update={"seed": chosen.seed + index}))
        self.devices: dict[str, DeviceEmulator] = {
            "mixer": PumpLineEmulator(self.bench, {p.address: p.stock for p in config.mixer.pumps},
                                      self.injectors["mixer"], config.mixer.limits),
            "gantry": GrblEmulator(self.bench, self.injectors["gantry"], config.gantry.travel,
                                   homing_required=homing_required),
            "source_meter": Keithley2400Emulator(self.bench, self.injectors["source_meter"]),
            "spectrometer": SpectrometerEmulator(self.bench, self.injectors["spectrometer"]),
            "profilometer": ProfilometerEmulator(self.bench, self.injectors["profilometer"]),
        }
        self._source_config = config
        self.servers: dict[str, EmulatorServer] = {}
        self.config = config

    def _resolve(self, link: LinkConfig | None) -> LinkConfig | None:
        if link is None or not link.url.startswith(EMULATOR_SCHEME):
            return link
        name = link.url[len(EMULATOR_SCHEME):]
        if name not in self.devices:
            raise ValueError(f"unknown emulator {link.url!r}; known: {sorted(self.devices)}")
        if name not in self.servers:
            self.servers[name] = EmulatorServer(self.devices[name], self.injectors[name]).start()
        return link.model_copy(update={"url": self.servers[name].url})

    def start(self) -> EmulatedBench:
        """Start the emulators the config names and set `config` to the resolved copy."""
        c = self._source_config
        self.config = c.model_copy(update={
            "mixer": c.mixer.model_copy(update={"link": self._resolve(c.mixer.link)}),
            "gantry": c.gantry.model_copy(update={"link": self._resolve(c.gantry.link)}),
            "source_meter": c.source_meter.model_copy(update={"link": self._resolve(c.source_meter.link)}),
            "spectrometer": c.spectrometer.model_copy(update={"link": self._resolve(c.spectrometer.link)}),
            "thickness": c.thickness.model_copy(update={"link": self._resolve(c.thickness.link)}),
        })
        return self

    def injected(self) -> Counter[str]:
        """Faults injected so far, summed over instruments, per kind."""
        total: Counter[str] = Counter()
        for injector in self.injectors.values():
            total.update(injector.injected)
        return total

    def stop(self) -> None:
        """Stop every server."""
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        self.bench.close_log()

    def __enter__(self) -> EmulatedBench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
