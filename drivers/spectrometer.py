"""UV-vis-NIR spectrometers as a capability, and absorbance from sample, dark and reference scans.

Any spectrometer with integration time, wavelengths and intensities satisfies `Spectrometer`
(`SerialSpectrometer`, `SeabreezeSpectrometer`). Absorbance is A = -log10((S - D) / (Ref - D)) with S the
sample scan, D a dark scan and Ref a scan of the blank substrate. A scan with any pixel at the
detector's maximum count is invalid (`Saturated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from drivers.errors import Saturated

#: Wavelengths [nm] of the P3HT/CNT features: the main band and the vibronic shoulder.
BAND_NM = 525.0
SHOULDER_NM = 602.0


@runtime_checkable
class Spectrometer(Protocol):
    """What the optical station needs from a spectrometer."""

    max_count: float

    def set_integration_time_us(self, integration_time_us: int) -> None:
        """Set the detector integration time [us]."""
        ...

    def wavelengths_nm(self) -> np.ndarray:
        """Return the pixel wavelengths [nm], shape (n_pixels,)."""
        ...

    def intensities(self) -> np.ndarray:
        """Take one scan and return the counts, shape (n_pixels,); raise `Saturated` if saturated."""
        ...


def check_not_saturated(counts: np.ndarray, max_count: float) -> np.ndarray:
    """Return `counts` or raise `Saturated` if any pixel reaches `max_count`."""
    saturated = int(np.count_nonzero(np.asarray(counts) >= max_count))
    if saturated:
        raise Saturated(f"{saturated} pixel(s) at the detector maximum {max_count:g}; "
                        "shorten the integration time")
    return counts


def absorbance(sample: np.ndarray, dark: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return A = -log10((S - D) / (Ref - D)) per pixel; NaN where the light level is not positive."""
    signal = np.asarray(sample, dtype=float) - dark
    light = np.asarray(reference, dtype=float) - dark
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((signal > 0) & (light > 0), signal / light, np.nan)
        return -np.log10(ratio)


@dataclass(frozen=True)
class AbsorbanceSpectrum:
    """Absorbance per wavelength, with the features the P3HT/CNT study uses.

    Attributes:
        wavelengths_nm: Shape (n_pixels,), increasing.
        absorbance: Shape (n_pixels,), base-10 absorbance (NaN where undefined).
    """

    wavelengths_nm: np.ndarray
    absorbance: np.ndarray

    def absorbance_at(self, wavelength_nm: float, half_width_nm: float = 2.0) -> float:
        """Return the mean absorbance within +-`half_width_nm` of `wavelength_nm` (interpolated if no pixel)."""
        window = np.abs(self.wavelengths_nm - wavelength_nm) <= half_width_nm
        values = self.absorbance[window]
        if values.size and np.isfinite(values).any():
            return float(np.nanmean(values))
        finite = np.isfinite(self.absorbance)
        return float(np.interp(wavelength_nm, self.wavelengths_nm[finite], self.absorbance[finite]))

    def ratio(self, numerator_nm: float = SHOULDER_NM, denominator_nm: float = BAND_NM) -> float:
        """Return A(numerator) / A(denominator), by default the shoulder-to-band ratio A602/A525."""
        return self.absorbance_at(numerator_nm) / self.absorbance_at(denominator_nm)

    def features(self) -> dict[str, float]:
        """Return `absorbance_525` and `absorption_ratio` (A602/A525)."""
        return {"absorbance_525": self.absorbance_at(BAND_NM), "absorption_ratio": self.ratio()}


class AbsorbanceReader:
    """Takes dark, reference and sample scans and turns them into absorbance spectra.

    Args:
        spectrometer: Any `Spectrometer`.
        shutter: Called with False to block the lamp for the dark scan and True to reopen it
            (None: the caller blocks the light itself before `take_dark`).
        scans_to_average: Scans averaged per spectrum.
    """

    def __init__(self, spectrometer: Spectrometer, shutter: Callable[[bool], None] | None = None,
                 scans_to_average: int = 1) -> None:
        if scans_to_average < 1:
            raise ValueError(f"scans_to_average must be >= 1, got {scans_to_average}")
        self.spectrometer = spectrometer
        self.shutter = shutter
        self.scans_to_average = scans_to_average
        self.dark_: np.ndarray | None = None
        self.reference_: np.ndarray | None = None

    def _scan(self) -> np.ndarray:
        scans = [self.spectrometer.intensities() for _ in range(self.scans_to_average)]
        return np.mean(scans, axis=0)

    def take_dark(self) -> np.ndarray:
        """Scan with the lamp blocked and keep it as the dark spectrum."""
        if self.shutter is not None:
            self.shutter(False)
        try:
            self.dark_ = self._scan()
        finally:
            if self.shutter is not None:
                self.shutter(True)
        return self.dark_

    def take_reference(self) -> np.ndarray:
        """Scan the blank substrate and keep it as the reference spectrum."""
        self.reference_ = self._scan()
        return self.reference_

    def measure(self) -> AbsorbanceSpectrum:
        """Scan the sample and return its absorbance (needs a dark and a reference first)."""
        if self.dark_ is None or self.reference_ is None:
            raise RuntimeError("take_dark() and take_reference() before measure()")
        sample = self._scan()
        return AbsorbanceSpectrum(np.asarray(self.spectrometer.wavelengths_nm(), dtype=float),
                                  absorbance(sample, self.dark_, self.reference_))
