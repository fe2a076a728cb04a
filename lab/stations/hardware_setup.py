"""A bench file: the drivers' hardware config plus what the lab adds (station settings, emulator faults).

The file is a `drivers.config.HardwareConfig` YAML (see `drivers/examples/emulated.yaml`) with two optional
top-level sections the lab reads and removes before the drivers validate the rest:

```yaml
stations:                      # StationSettings
  stocks: {p3ht: p3ht, l_swcnt: d1, s_swcnt: d2, mwcnt: d6, dwcnt: d8}   # component -> pump stock
  waste_xy_mm: [180, 20]
  attempts: 3
faults: {seed: 0, drop: 0.01, corrupt: 0.01, alarm: 0.01, disconnect: 0.01}   # emulators only
```
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drivers.config import HardwareConfig, example_config_path, parse_hardware_config
from drivers.emulators.faults import FaultConfig
from lab.errors import ConfigError, validation_message
from lab.yaml_files import read_yaml

#: Pump stock solution holding each blend component (the real data's d1/d2/d6/d8 dispersions).
DEFAULT_STOCKS: dict[str, str] = {"p3ht": "p3ht", "l_swcnt": "d1", "s_swcnt": "d2", "mwcnt": "d6", "dwcnt": "d8"}

#: Fault kinds a single `--faults RATE` is split over (evenly).
FAULT_KINDS = ("drop", "corrupt", "alarm", "disconnect")


class StationSettings(BaseModel):
    """How the hardware stations use the bench.

    Attributes:
        stocks: Pump stock name of each recipe component.
        mix_volume_ul: Volume of one mix [uL]; a recipe's fractions (%) become volumes of this total.
        waste_xy_mm: Where a failed mix is purged (off the wafer, inside the gantry travel) [mm].
        attempts: Tries of an operation that is safe to repeat (a move, a scan, a probe reading).
        min_absorbance: Below this absorbance at 525 nm the optical station reports "no film".
        baseline_window_nm: Band where films do not absorb; its mean absorbance is the baseline.
        max_baseline_absorbance: A larger |baseline| means the reference drifted: the reading is refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stocks: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STOCKS))
    mix_volume_ul: float = Field(100.0, gt=0)
    waste_xy_mm: tuple[float, float] = (180.0, 20.0)
    attempts: int = Field(3, ge=1, le=10)
    min_absorbance: float = Field(0.005, ge=0)
    baseline_window_nm: tuple[float, float] = (920.0, 1000.0)
    max_baseline_absorbance: float = Field(0.05, gt=0)


class HardwareSetup(BaseModel):
    """The drivers' hardware config, the station settings and (for emulators) the injected faults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hardware: HardwareConfig
    stations: StationSettings = StationSettings()
    faults: FaultConfig = FaultConfig()

    @model_validator(mode="after")
    def _consistent(self) -> HardwareSetup:
        pumps = {p.stock for p in self.hardware.mixer.pumps}
        unknown = sorted(set(self.stations.stocks.values()) - pumps)
        if unknown:
            raise ValueError(f"stations.stocks: stock(s) {unknown} have no pump; mixer pumps hold {sorted(pumps)}")
        x, y = self.stations.waste_xy_mm
        travel = self.hardware.gantry.travel
        if not (travel.x_mm[0] <= x <= travel.x_mm[1] and travel.y_mm[0] <= y <= travel.y_mm[1]):
            raise ValueError(f"stations.waste_xy_mm ({x}, {y}) is outside the gantry travel")
        if (x, y) in set(self.hardware.wafer.positions().values()):
            raise ValueError(f"stations.waste_xy_mm ({x}, {y}) is a wafer film position")
        return self

    def with_fault_rate(self, rate: float, seed: int = 0) -> HardwareSetup:
        """Return a copy whose emulators fault each reply with probability `rate`, split evenly over the kinds."""
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"faults: rate must be in [0, 1], got {rate}")
        share = rate / len(FAULT_KINDS)
        return self.model_copy(update={"faults": FaultConfig(seed=seed, **{k: share for k in FAULT_KINDS})})


def parse_hardware_setup(data: object, source: str = "<dict>") -> HardwareSetup:
    """Validate a loaded bench file; `ConfigError`/`HardwareConfigError` naming the first bad field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a hardware config must be a mapping, got {type(data).__name__}")
    data = dict(data)
    lab_sections = {k: data.pop(k) for k in ("stations", "faults") if k in data}
    hardware = parse_hardware_config(data, source)
    try:
        return HardwareSetup.model_validate({"hardware": hardware, **lab_sections})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {validation_message(exc)}") from None


def load_hardware_setup(path: str | Path | None = None) -> HardwareSetup:
    """Load a bench file (default: the drivers' shipped emulated example)."""
    path = Path(path) if path is not None else example_config_path()
    data = read_yaml(path, "hardware (bench)")
    return parse_hardware_setup(data, str(path))


def dump_hardware_setup(setup: HardwareSetup, path: str | Path) -> Path:
    """Write `setup` as a bench file that `load_hardware_setup` reads back."""
    data = setup.hardware.model_dump(mode="json")
    data["stations"] = setup.stations.model_dump(mode="json")
    data["faults"] = setup.faults.model_dump(mode="json", exclude_defaults=True)
    path = Path(path)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
