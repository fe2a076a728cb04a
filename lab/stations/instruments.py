"""The opened instruments of one bench, and bounded retries of what is safe to repeat.

`Instruments.open(config)` opens every driver of a `HardwareConfig` (real ports or `socket://` emulators);
the stations share it (one gantry carries the nozzle and every probe). `attempt` repeats an action that has
no side effect beyond a measurement; actions that move liquid are never passed to it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Callable, TypeVar

from drivers.config import HardwareConfig
from drivers.connect import open_gantry, open_mixer, open_probe, open_spectrometer, open_thickness
from drivers.errors import ContactCheckFailed, DriverError, HardwareConfigError, InterlockError
from drivers.flow_mixer import FlowMixer
from drivers.four_point_probe import FourPointProbe
from drivers.grbl import GrblGantry
from drivers.spectrometer_seabreeze import SeabreezeSpectrometer
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.thickness import ManualThickness, SerialProfilometer
from drivers.transport import Transport

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that repeating the same action cannot cure (a refused value, a film the probe cannot contact).
NOT_RETRIED: tuple[type[DriverError], ...] = (InterlockError, HardwareConfigError, ContactCheckFailed)


def attempt(action: Callable[[], T], attempts: int, recover: Callable[[DriverError], None] | None = None) -> T:
    """Run `action` up to `attempts` times; after a `DriverError` call `recover(error)` and try again.

    Only for actions that are safe to repeat (moves to absolute targets, scans, probe readings).

    Raises:
        DriverError: the last error once the attempts are used up, or at once for `NOT_RETRIED` errors.
    """
    for i in range(attempts):
        try:
            return action()
        except NOT_RETRIED:
            raise
        except DriverError as exc:
            if i + 1 == attempts:
                raise
            log.info("attempt %d/%d failed (%s: %s); retrying", i + 1, attempts, type(exc).__name__, exc)
            if recover is not None:
                recover(exc)
    raise ValueError(f"attempts must be >= 1, got {attempts}")


def describe(error: BaseException) -> str:
    """One line naming the error class and its message (a failure reason for the store)."""
    return f"{type(error).__name__}: {error}"


@dataclass
class Instruments:
    """The drivers of one bench, opened from a `HardwareConfig`."""

    config: HardwareConfig
    gantry: GrblGantry
    mixer: FlowMixer
    probe: FourPointProbe
    spectrometer: SerialSpectrometer | SeabreezeSpectrometer
    gauge: SerialProfilometer | ManualThickness

    @classmethod
    def open(cls, config: HardwareConfig, manual_thickness: Callable[[], float] | None = None) -> Instruments:
        """Open every instrument (closing those already open if one fails)."""
        opened: list[object] = []
        try:
            gantry = open_gantry(config.gantry, config.time_scale)
            opened.append(gantry)
            mixer = open_mixer(config.mixer, config.time_scale)
            opened.append(mixer)
            probe = open_probe(config)
            opened.append(probe.meter)
            spectrometer = open_spectrometer(config.spectrometer)
            opened.append(spectrometer)
            gauge = open_thickness(config.thickness, manual_thickness)
        except BaseException:
            for device in reversed(opened):
                _close_quietly(device)
            raise
        return cls(config, gantry, mixer, probe, spectrometer, gauge)

    def transports(self) -> list[Transport]:
        """The serial links of the instruments (seabreeze and manual entry have none)."""
        devices = (self.gantry, self.mixer, self.probe.meter, self.spectrometer, self.gauge)
        return [d.transport for d in devices if isinstance(getattr(d, "transport", None), Transport)]

    def detections(self) -> Counter[str]:
        """Faults the drivers detected so far, per kind, summed over every link."""
        total: Counter[str] = Counter()
        for transport in self.transports():
            total.update(transport.detections)
        return total

    def close(self) -> None:
        """Put every instrument in its safe state and close the links (best effort, each one)."""
        for device in (self.gantry, self.mixer, self.probe.meter, self.spectrometer, self.gauge):
            _close_quietly(device)


def _close_quietly(device: object) -> None:
    close = getattr(device, "close", None)
    if close is None:
        return
    try:
        close()
    except (DriverError, OSError) as exc:
        log.warning("closing %s: %s", type(device).__name__, exc)
