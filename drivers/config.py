"""Hardware configuration of a bench, as pydantic models loaded from YAML.

Ports are pyserial URLs (`/dev/ttyUSB0`, `socket://host:port`, `loop://`). An URL `emulator://<name>`
stands for an instrument that `drivers.emulators.launcher.EmulatedBench` starts and replaces with its
loopback socket URL. See `drivers/examples/emulated.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drivers.errors import HardwareConfigError
from drivers.four_point_probe import ProbeSettings
from drivers.grbl import GrblSettings, TravelLimits
from drivers.keithley2400 import SourceMeterLimits
from drivers.ne1000 import PumpLimits, SyringeSpec

EMULATOR_SCHEME = "emulator://"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkConfig(_Model):
    """How to reach one serial line."""

    url: str
    baudrate: int = Field(9600, gt=0)
    timeout_s: float = Field(1.0, gt=0, description="reply timeout [s]")
    retries: int = Field(2, ge=0, le=10, description="extra attempts of idempotent queries")


class PumpSlotConfig(_Model):
    """One pump of the mixer: the stock solution it holds, its address and syringe."""

    stock: str
    address: int = Field(..., ge=0, le=99)
    syringe: SyringeSpec


class MixerConfig(_Model):
    """The flow mixer: pumps on one line."""

    link: LinkConfig
    pumps: list[PumpSlotConfig] = Field(..., min_length=1)
    rate_ul_min: float = Field(..., gt=0)
    safe_mode_timeout_s: int | None = Field(None, ge=1, le=255)
    limits: PumpLimits = PumpLimits()

    @model_validator(mode="after")
    def _unique(self) -> MixerConfig:
        for attribute in ("stock", "address"):
            values = [getattr(pump, attribute) for pump in self.pumps]
            if len(set(values)) != len(values):
                raise ValueError(f"pumps: {attribute} values must be unique, got {values}")
        return self


class GantryConfig(_Model):
    """The Grbl gantry carrying the nozzle and probes."""

    link: LinkConfig
    travel: TravelLimits = TravelLimits()
    settings: GrblSettings = GrblSettings()
    safe_z_mm: float = Field(20.0, description="travel height between films [mm]")
    cast_z_mm: float = Field(1.0, description="nozzle height that touches a droplet off [mm]")
    measure_z_mm: float = Field(2.0, description="probe height for measurements [mm]")


class SourceMeterConfig(_Model):
    """The source meter driving the 4-point probe."""

    link: LinkConfig
    limits: SourceMeterLimits = SourceMeterLimits()


class SpectrometerConfig(_Model):
    """The UV-vis-NIR spectrometer."""

    kind: Literal["serial", "seabreeze"] = "serial"
    link: LinkConfig | None = None
    serial_number: str | None = None
    integration_time_us: int = Field(10_000, ge=1)
    scans_to_average: int = Field(1, ge=1)
    reference_xy_mm: tuple[float, float] = Field((5.0, 5.0), description="blank substrate spot [mm]")

    @model_validator(mode="after")
    def _link(self) -> SpectrometerConfig:
        if self.kind == "serial" and self.link is None:
            raise ValueError("spectrometer: kind 'serial' needs a link")
        return self


class ThicknessConfig(_Model):
    """The thickness gauge: a serial profilometer or manual entry."""

    kind: Literal["serial", "manual"] = "serial"
    link: LinkConfig | None = None

    @model_validator(mode="after")
    def _link(self) -> ThicknessConfig:
        if self.kind == "serial" and self.link is None:
            raise ValueError("thickness: kind 'serial' needs a link")
        return self


class WaferLayout(_Model):
    """Film slots on the wafer: a grid from `origin_xy_mm` with `pitch_xy_mm`, numbered row by row."""

    origin_xy_mm: tuple[float, float] = (20.0, 20.0)
    pitch_xy_mm: tuple[float, float] = (10.0, 10.0)
    columns: int = Field(8, ge=1)
    rows: int = Field(8, ge=1)

    def positions(self) -> dict[int, tuple[float, float]]:
        """Return slot index (0-based, row-major) -> (x, y) [mm]."""
        (x0, y0), (dx, dy) = self.origin_xy_mm, self.pitch_xy_mm
        return {r * self.columns + c: (x0 + c * dx, y0 + r * dy) for r in range(self.rows) for c in range(self.columns)}


class HardwareConfig(_Model):
    """Everything needed to open the bench's instruments."""

    time_scale: float = Field(1.0, gt=0, description="emulated seconds per real second; 1 for hardware")
    mixer: MixerConfig
    gantry: GantryConfig
    source_meter: SourceMeterConfig
    probe: ProbeSettings = ProbeSettings()
    spectrometer: SpectrometerConfig
    thickness: ThicknessConfig = ThicknessConfig(kind="manual")
    wafer: WaferLayout = WaferLayout()

    @model_validator(mode="after")
    def _wafer_inside_travel(self) -> HardwareConfig:
        travel = self.gantry.travel
        spots = list(self.wafer.positions().values()) + [self.spectrometer.reference_xy_mm]
        for x, y in spots:
            if not (travel.x_mm[0] <= x <= travel.x_mm[1] and travel.y_mm[0] <= y <= travel.y_mm[1]):
                raise ValueError(f"wafer/reference position ({x}, {y}) mm is outside the gantry travel")
        for name in ("safe_z_mm", "cast_z_mm", "measure_z_mm"):
            z = getattr(self.gantry, name)
            if not travel.z_mm[0] <= z <= travel.z_mm[1]:
                raise ValueError(f"gantry.{name}={z} outside the z travel {travel.z_mm}")
        return self


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def parse_hardware_config(data: object, source: str = "<dict>") -> HardwareConfig:
    """Validate a loaded mapping; raise `HardwareConfigError` naming the first bad field."""
    try:
        return HardwareConfig.model_validate(data)
    except ValidationError as exc:
        raise HardwareConfigError(f"{source}: {_describe(exc)}") from None


def load_hardware_config(path: str | Path) -> HardwareConfig:
    """Load and validate a hardware YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HardwareConfigError(f"cannot read hardware config {path}: {exc}") from None
    return parse_hardware_config(data, str(path))


def example_config_path() -> Path:
    """Return the path of the packaged example `emulated.yaml`."""
    return Path(__file__).resolve().parent / "examples" / "emulated.yaml"
