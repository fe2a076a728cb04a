"""A campaign's configuration, validated once: every field with its allowed range.

A campaign file (`lab campaign start --config FILE`, `lab serve --config FILE`) is this model in YAML:

```yaml
scenario: p3ht-cnt
days: 5
batch: 48
seed: 1
hardware: hardware            # simulated | emulated | hardware (drivers on the bench file's ports)
hardware_config: bench.yaml
objectives: [conductivity, cost]   # optional: checked against the scenario's
retries: 2                    # attempts of a measurement step that raised (safe to repeat)
quarantine_after: 5           # consecutive failures before a station is quarantined for the day
schedule: {every_hours: 24}   # or {daily_at: "07:30"}; used by `lab serve`
approval: required            # each day waits after its proposal for `lab campaign approve` / `reject`
prior: past_films.csv         # or another campaign's store URL: what the lab already knows
prior_same_process: false     # true: the prior's rows are data of this very process
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drivers.errors import DriverError
from lab.errors import ConfigError, LabError, validation_message
from lab.scenarios import DEFAULT_SCENARIO, check_hardware, scenario_entries, scenario_entry
from lab.yaml_files import read_yaml
from optimizers.settings import BatchLayout


class Schedule(BaseModel):
    """When `lab serve` starts a daily cycle: every `every_hours` hours, or each day at `daily_at` (HH:MM, local)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_hours: float | None = Field(None, gt=0, le=24 * 365, description="hours between the starts of two cycles")
    daily_at: str | None = Field(None, description="local wall-clock time HH:MM of each cycle's start")
    start_now: bool = Field(True, description="with every_hours: run the first cycle at once")

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None:
            m = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
            if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
                raise ValueError(f"daily_at must be HH:MM (00:00-23:59), got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> Schedule:
        if (self.every_hours is None) == (self.daily_at is None):
            raise ValueError("schedule: give exactly one of every_hours or daily_at")
        return self


class CampaignConfig(BaseModel):
    """What a simulated campaign runs: scenario, schedule, batch layout, seed and strategy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str = Field(DEFAULT_SCENARIO, description="a scenario of the registry (`lab scenario list`), or the "
                          "scenario file's name")
    scenario_file: str | None = Field(None, description="scenario file (YAML) of a material system described by the lab")
    days: int = Field(2, ge=1, le=365, description="number of daily cycles")
    batch: int = Field(160, ge=1, le=5000, description="films (samples) per day")
    seed: int = Field(0, ge=0, description="seeds the world, the stations and the optimizer")
    droplets_per_recipe: int = Field(
        6, ge=1, le=26, description="samples made from one recipe (films cast from one mix; electrode: cells); "
        "default per scenario: its registry entry's `samples_per_recipe`"
    )
    recipes_per_wafer: int = Field(6, ge=1, le=50, description="compositions that fit on one wafer")
    thickness_fraction: float = Field(
        0.15, ge=0.0, le=1.0, description="share of films whose (slow, expensive) thickness is measured"
    )
    thickness_rule: Literal["per_recipe", "random"] = Field(
        "per_recipe", description="which films are profiled: per_recipe, every recipe's first film then evenly "
        "spread to the share (the most information per profile); random: each film with probability "
        "thickness_fraction (lab.stations.profiling)"
    )
    conductivity_model: Literal["graph", "gp"] = Field(
        "graph",
        description="graph: GPs of ln Rs (every film) and ln t (profiled films) joined by sigma = 1e7/(Rs t); "
        "gp: one GP on the conductivity of profiled films",
    )
    hardware: Literal["simulated", "emulated", "hardware"] = Field(
        "simulated",
        description="simulated: stations in direct Python; emulated: drivers + emulators started in-process; "
        "hardware: drivers on the bench file's ports (real instruments, or `lab emulate`'s)",
    )
    hardware_config: str | None = Field(None, description="bench file of emulated hardware (default: shipped example)")
    faults: float | None = Field(None, ge=0.0, le=1.0, description="emulated hardware: per-reply fault rate")
    strategy: Literal["default", "thompson", "reference", "random"] = Field(
        "default", description="batch strategy of optimizers.propose (thompson: the sample-path strategy at every batch size)"
    )
    name: str | None = Field(None, description="campaign name in the store (default: derived from scenario and seed)")
    objectives: tuple[str, ...] | None = Field(None, description="the scenario's objectives (checked, in any order)")
    retries: int = Field(2, ge=0, le=10, description="re-tries of a measurement step that raised an error")
    quarantine_after: int = Field(5, ge=1, le=1000, description="consecutive failures that quarantine a station")
    schedule: Schedule | None = Field(None, description="when `lab serve` runs the daily cycles")
    approval: Literal["none", "required"] = Field(
        "none", description="required: each day stops after its proposal (DIR/day-N/proposal.csv) until a scientist "
        "approves it (`lab campaign approve`, edits allowed) or rejects it (`lab campaign reject`)")
    prior: str | None = Field(
        None, description="past measurements the models start from: a CSV file in the scenario's columns "
        "(parameters and objectives), or another campaign's store URL")
    prior_same_process: bool = Field(
        False, description="true: the prior's rows are data of this very process; false: a related task whose "
        "correlation with the campaign is learned (botorch multi-task GP)")

    @model_validator(mode="before")
    @classmethod
    def _scenario_defaults(cls, data: object) -> object:
        """Fill `droplets_per_recipe` (absent or None) with the scenario's default: the scenario file's, or its
        registry entry's."""
        if isinstance(data, dict) and data.get("scenario_file") is not None:
            from lab.scenarios.spec import load_scenario_file

            spec = load_scenario_file(data["scenario_file"])
            if data.get("hardware") == "emulated":
                spec.check_instrument_route()
            spec.check_world_data()
            spec.candidate_table()
            recipe = spec.recipe
            data = {**data, "scenario": spec.name}
            if data.get("droplets_per_recipe") is None:
                data["droplets_per_recipe"] = recipe.samples_per_recipe if recipe is not None else 1
            if data.get("recipes_per_wafer") is None and recipe is not None:
                data["recipes_per_wafer"] = recipe.recipes_per_substrate
            return data
        if isinstance(data, dict) and data.get("droplets_per_recipe") is None:
            entry = scenario_entries().get(data.get("scenario", DEFAULT_SCENARIO))
            data = {k: v for k, v in data.items() if k != "droplets_per_recipe"}
            if entry is not None:  # an unknown scenario is refused by its own field
                data["droplets_per_recipe"] = entry.samples_per_recipe
        return data

    @model_validator(mode="after")
    def _hardware_options(self) -> CampaignConfig:
        if self.scenario_file is None:
            scenario_entry(self.scenario)  # ConfigError (a ValueError) naming the known ones
            check_hardware(self.scenario, self.hardware)
        elif self.hardware == "hardware":
            raise ValueError("hardware: scenario files run simulated or emulated")
        if self.hardware == "simulated":
            for option in ("faults", "hardware_config"):
                if getattr(self, option) is not None:
                    raise ValueError(f"{option}: only with hardware 'emulated' (got hardware 'simulated')")
        if self.hardware == "hardware":
            if self.hardware_config is None:
                raise ValueError("hardware_config: hardware 'hardware' needs a bench file with the instruments' ports")
            if self.faults is not None:
                raise ValueError("faults: only with hardware 'emulated' (got hardware 'hardware')")
        return self

    @model_validator(mode="after")
    def _prior_options(self) -> CampaignConfig:
        if self.prior is None:
            if self.prior_same_process:
                raise ValueError("prior_same_process: only with a prior")
            return self
        if self.strategy == "random":
            raise ValueError("prior: strategy 'random' uses no model; choose default or thompson")
        if self.strategy == "reference" and not self.prior_same_process:
            raise ValueError("prior: a multi-task prior needs strategy default or thompson "
                             "(or prior_same_process: true)")
        return self

    @model_validator(mode="after")
    def _fits_the_bench(self) -> CampaignConfig:
        """With instruments, the bench file must load and one wafer must hold a wafer's worth of films."""
        if self.hardware == "simulated":
            return self
        from lab.stations.hardware_setup import load_hardware_setup

        try:
            setup = load_hardware_setup(self.hardware_config)
        except (LabError, DriverError) as exc:
            raise ValueError(f"hardware_config: {exc}") from None
        wafer = setup.hardware.wafer
        slots = wafer.columns * wafer.rows
        films = self.recipes_per_wafer * self.droplets_per_recipe
        if films > slots:
            raise ValueError(f"recipes_per_wafer x droplets_per_recipe = {self.recipes_per_wafer} x "
                             f"{self.droplets_per_recipe} = {films} films do not fit the wafer's {slots} positions "
                             f"({wafer.columns} x {wafer.rows} in the bench file); at most "
                             f"{max(1, slots // self.droplets_per_recipe)} recipes per wafer")
        return self

    @property
    def layout(self) -> BatchLayout:
        """The day's batch layout: `droplets_per_recipe` samples per recipe (the optimizer's one definition)."""
        return BatchLayout(replicates=self.droplets_per_recipe)

    @property
    def recipes_per_day(self) -> int:
        """Distinct compositions per day: ceil(batch / droplets_per_recipe)."""
        return self.layout.recipes_for(self.batch)

    def droplets_for(self, slot: int) -> int:
        """Samples made from recipe `slot` of a day; the last recipe takes what is left of the batch."""
        return self.layout.copies(self.batch)[slot]


def load_campaign_config(path: str | Path, **overrides: object) -> CampaignConfig:
    """Read a campaign file (YAML, the fields of `CampaignConfig`); `ConfigError` naming the first bad field."""
    path = Path(path)
    data = read_yaml(path, "campaign")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a campaign config must be a mapping of fields, got {type(data).__name__}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("hardware_config", "scenario_file", "prior"):
        if isinstance(data.get(key), str) and "://" not in data[key] and not Path(data[key]).is_absolute():
            data[key] = str((path.parent / data[key]).resolve())
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {validation_message(exc)}") from None
