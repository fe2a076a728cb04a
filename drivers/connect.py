"""Open each instrument's driver from its section of a `HardwareConfig`.

Each function opens the link (`Transport.from_url`) with the framing the instrument speaks and returns
the driver; the caller closes it (every driver is a context manager).
"""

from __future__ import annotations

import logging
import queue
from typing import Callable

from drivers.config import (EMULATOR_SCHEME, GantryConfig, HardwareConfig, LinkConfig, MixerConfig,
                            SourceMeterConfig, SpectrometerConfig, ThicknessConfig)
from drivers.errors import HardwareConfigError
from drivers.flow_mixer import FlowMixer
from drivers.four_point_probe import FourPointProbe
from drivers.framing import Framing, LineFraming, SafeModeFraming, StxEtxFraming
from drivers.grbl import GrblGantry
from drivers.keithley2400 import Keithley2400
from drivers.ne1000 import NE1000
from drivers.spectrometer_seabreeze import SeabreezeSpectrometer
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.thickness import ManualThickness, SerialProfilometer
from drivers.transport import Transport

_log = logging.getLogger("drivers.traffic")


def open_link(link: LinkConfig, framing: Framing) -> Transport:
    """Open `link.url` with `framing`; an unresolved `emulator://` URL is a configuration error."""
    if link.url.startswith(EMULATOR_SCHEME):
        raise HardwareConfigError(f"link url {link.url!r} names an emulator that is not running; "
                                  "start it with drivers.emulators.launcher.EmulatedBench")
    return Transport.from_url(link.url, framing, baudrate=link.baudrate, timeout_s=link.timeout_s,
                              retries=link.retries, logger=_log)


def open_mixer(config: MixerConfig, time_scale: float = 1.0) -> FlowMixer:
    """Open the pump line and return the (not yet configured) flow mixer."""
    framing = SafeModeFraming() if config.safe_mode_timeout_s else StxEtxFraming()
    transport = open_link(config.link, framing)
    pumps = {slot.stock: NE1000(transport, slot.address, slot.syringe, config.limits, time_scale=time_scale)
             for slot in config.pumps}
    return FlowMixer(transport, pumps, config.rate_ul_min, config.safe_mode_timeout_s)


def open_gantry(config: GantryConfig, time_scale: float = 1.0) -> GrblGantry:
    """Open the Grbl gantry."""
    transport = open_link(config.link, LineFraming(b"\n", b"\r\n"))
    return GrblGantry(transport, config.travel, config.settings, time_scale=time_scale)


def open_source_meter(config: SourceMeterConfig) -> Keithley2400:
    """Open the source meter."""
    return Keithley2400(open_link(config.link, LineFraming(b"\n", b"\n")), config.limits)


def open_probe(config: HardwareConfig) -> FourPointProbe:
    """Open the source meter and wrap it as the 4-point probe."""
    return FourPointProbe(open_source_meter(config.source_meter), config.probe)


def open_spectrometer(config: SpectrometerConfig) -> SerialSpectrometer | SeabreezeSpectrometer:
    """Open the spectrometer (serial protocol or seabreeze) and set its integration time."""
    if config.kind == "seabreeze":
        spectrometer: SerialSpectrometer | SeabreezeSpectrometer = SeabreezeSpectrometer.open(config.serial_number)
    else:
        assert config.link is not None
        spectrometer = SerialSpectrometer(open_link(config.link, LineFraming(b"\n", b"\n")))
    spectrometer.set_integration_time_us(config.integration_time_us)
    return spectrometer


def open_thickness(config: ThicknessConfig,
                   manual_source: Callable[[], float] | queue.Queue[float] | None = None
                   ) -> SerialProfilometer | ManualThickness:
    """Open the profilometer, or wrap `manual_source` for manual entry (it is required then)."""
    if config.kind == "manual":
        if manual_source is None:
            raise HardwareConfigError("thickness: kind 'manual' needs a manual_source (callable or queue)")
        return ManualThickness(manual_source)
    assert config.link is not None
    return SerialProfilometer(open_link(config.link, LineFraming(b"\n", b"\n")))
