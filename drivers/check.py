"""Ask every configured instrument who it is: the check behind `lab stations check`."""

from __future__ import annotations

from typing import Callable, NamedTuple

from drivers.config import HardwareConfig
from drivers.connect import open_gantry, open_mixer, open_source_meter, open_spectrometer, open_thickness
from drivers.errors import DriverError


class Identification(NamedTuple):
    """One instrument's answer: name, identification string ('' if none), status ('ok' or why not)."""

    instrument: str
    ident: str
    status: str


def _mixer(config: HardwareConfig) -> tuple[str, str]:
    mixer = open_mixer(config.mixer, config.time_scale)
    try:
        versions = mixer.identify()
    finally:
        mixer.transport.close()
    return "; ".join(f"{name}@{mixer.pumps[name].address:02d}: {ver}" for name, ver in versions.items()), "ok"


def _gantry(config: HardwareConfig) -> tuple[str, str]:
    gantry = open_gantry(config.gantry, config.time_scale)
    try:
        ident, state = gantry.identify(), gantry.status().state
    finally:
        gantry.transport.close()
    return ident, "ok" if state != "Alarm" else "ok (alarm lock: home with $H before moving)"


def _source_meter(config: HardwareConfig) -> tuple[str, str]:
    with open_source_meter(config.source_meter) as meter:
        return meter.identify(), "ok"


def _spectrometer(config: HardwareConfig) -> tuple[str, str]:
    spectrometer = open_spectrometer(config.spectrometer)
    try:
        return spectrometer.identify(), "ok"
    finally:
        spectrometer.close()


def _thickness(config: HardwareConfig) -> tuple[str, str]:
    if config.thickness.kind == "manual":
        return "manual thickness entry", "ok"
    gauge = open_thickness(config.thickness)
    try:
        return gauge.identify(), "ok"
    finally:
        gauge.close()  # type: ignore[union-attr]


CHECKS: dict[str, Callable[[HardwareConfig], tuple[str, str]]] = {
    "mixer": _mixer, "gantry": _gantry, "source_meter": _source_meter,
    "spectrometer": _spectrometer, "thickness": _thickness}


def identify_all(config: HardwareConfig) -> list[Identification]:
    """Open, identify and close every instrument; never raises for an instrument that fails.

    Returns:
        One `Identification` per instrument, in a fixed order; status is `ok` or `error: <why>`.
    """
    results: list[Identification] = []
    for name, check in CHECKS.items():
        try:
            ident, status = check(config)
        except (DriverError, OSError) as exc:
            ident, status = "", f"error: {type(exc).__name__}: {exc}"
        results.append(Identification(name, ident, status))
    return results
