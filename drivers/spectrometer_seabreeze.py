"""Ocean Optics / Ocean Insight USB spectrometers through `seabreeze` (optional extra `seabreeze`).

`seabreeze` is imported only when a device is opened, so the rest of `drivers` works without it.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from drivers.errors import Disconnected, DriverError, InterlockError
from drivers.spectrometer import check_not_saturated


def _seabreeze_spectrometers() -> Any:
    try:
        return importlib.import_module("seabreeze.spectrometers")
    except ImportError as exc:
        raise DriverError("seabreeze is not installed: pip install 'closed-loop-lab[seabreeze]' "
                          "(or pip install seabreeze) to use an Ocean spectrometer") from exc


class SeabreezeSpectrometer:
    """`Spectrometer` backed by a `seabreeze.spectrometers.Spectrometer`.

    Args:
        device: An open seabreeze spectrometer (use `open()` to get the first or a given serial).
    """

    def __init__(self, device: Any) -> None:
        self.device = device
        limits = getattr(device, "integration_time_micros_limits", None)
        self.integration_limits_us: tuple[int, int] | None = tuple(limits) if limits else None  # type: ignore[assignment]
        self.max_count = float(getattr(device, "max_intensity", 65535.0))

    @classmethod
    def open(cls, serial_number: str | None = None) -> SeabreezeSpectrometer:
        """Open the spectrometer with `serial_number`, or the first one found."""
        module = _seabreeze_spectrometers()
        try:
            if serial_number is None:
                return cls(module.Spectrometer.from_first_available())
            return cls(module.Spectrometer.from_serial_number(serial_number))
        except Exception as exc:  # seabreeze raises its own SeaBreezeError
            raise Disconnected(f"no Ocean spectrometer available ({exc})") from exc

    def identify(self) -> str:
        """Get model and serial number."""
        return f"{self.device.model},{self.device.serial_number}"

    def set_integration_time_us(self, integration_time_us: int) -> None:
        """Set the integration time [us] (`integration_time_micros`)."""
        if self.integration_limits_us is not None:
            low, high = self.integration_limits_us
            if not low <= integration_time_us <= high:
                raise InterlockError(f"integration_time_us={integration_time_us} outside [{low}, {high}] us")
        self.device.integration_time_micros(int(integration_time_us))

    def wavelengths_nm(self) -> np.ndarray:
        """Get the pixel wavelengths [nm]."""
        return np.asarray(self.device.wavelengths(), dtype=float)

    def intensities(self) -> np.ndarray:
        """Take one scan; raise `Saturated` if a pixel is at the maximum count."""
        return check_not_saturated(np.asarray(self.device.intensities(), dtype=float), self.max_count)

    def close(self) -> None:
        """Release the USB device."""
        self.device.close()
