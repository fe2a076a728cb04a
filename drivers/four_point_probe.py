"""Sheet resistance of a thin film by the collinear 4-point probe, from a source meter.

For a film much thinner than the probe spacing, Rs = (pi / ln 2) * V / I * F [Ohm/sq], where F is
the geometric correction for a finite sample (1 for an infinite sheet). The probe sources +I and -I
and uses the difference, which cancels thermo-electric offsets.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from drivers.errors import ImplausibleReading
from drivers.keithley2400 import Keithley2400

PI_OVER_LN2 = math.pi / math.log(2.0)


def sheet_resistance_ohm_sq(voltage_v: float, current_a: float, correction: float = 1.0) -> float:
    """Return Rs [Ohm/sq] = (pi / ln 2) * V / I * F for inner voltage V [V] and outer current I [A]."""
    if current_a == 0:
        raise ValueError("current_a must be non-zero")
    return PI_OVER_LN2 * voltage_v / current_a * correction


def probe_voltage_v(sheet_resistance: float, current_a: float, correction: float = 1.0) -> float:
    """Return the inner voltage [V] a film of `sheet_resistance` [Ohm/sq] gives (inverse of the formula)."""
    return sheet_resistance * current_a / (PI_OVER_LN2 * correction)


class ProbeSettings(BaseModel):
    """How the probe measures: source current, compliance, geometric factor, current reversal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    current_a: float = Field(1e-5, gt=0)
    compliance_v: float = Field(10.0, gt=0)
    correction_factor: float = Field(1.0, gt=0, description="geometric correction F (1: infinite sheet)")
    reverse_current: bool = True


class FourPointProbe:
    """A collinear 4-point probe wired to a source meter (outer pins source, inner pins sense).

    Args:
        meter: The source meter.
        settings: Current, compliance, correction factor.
    """

    def __init__(self, meter: Keithley2400, settings: ProbeSettings | None = None) -> None:
        self.meter = meter
        self.settings = settings or ProbeSettings()

    def sheet_resistance(self) -> float:
        """Measure the sheet resistance [Ohm/sq] of the film under the probe.

        Raises:
            InterlockError: the current or compliance exceeds the meter's limits (nothing sent).
            ContactCheckFailed, Overflow, InCompliance: the meter could not measure (output is off).
            ImplausibleReading: the readings give no resistance (0 A flowed, the current is not the one sourced).
        """
        s = self.settings
        voltage_v, current_a = self.meter.measure(s.current_a, s.compliance_v, four_wire=True)
        if s.reverse_current:
            v_minus, i_minus = self.meter.measure(-s.current_a, s.compliance_v, four_wire=True)
            voltage_v, current_a = voltage_v - v_minus, current_a - i_minus
        return self._plausible(voltage_v, current_a)

    def _plausible(self, voltage_v: float, current_a: float) -> float:
        """Return Rs from the (difference) readings, or raise `ImplausibleReading` (no current, Rs not > 0)."""
        if current_a == 0:
            raise self.meter.transport.detected(ImplausibleReading("4-point probe: no current flowed on either "
                                                                   "polarity; no resistance follows"))
        rs = sheet_resistance_ohm_sq(voltage_v, current_a, self.settings.correction_factor)
        if not (math.isfinite(rs) and rs > 0):
            raise self.meter.transport.detected(ImplausibleReading(f"4-point probe: sheet resistance {rs} from "
                                                                   f"{voltage_v:g} V, {current_a:g} A"))
        return rs
