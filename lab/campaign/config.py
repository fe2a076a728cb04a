"""A campaign's configuration, validated once: every field with its allowed range."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CampaignConfig(BaseModel):
    """What a simulated campaign runs: scenario, schedule, batch layout, seed and strategy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Literal["p3ht-cnt", "electrode"] = "p3ht-cnt"
    days: int = Field(2, ge=1, le=365, description="number of daily cycles")
    batch: int = Field(160, ge=1, le=5000, description="films (samples) per day")
    seed: int = Field(0, ge=0, description="seeds the world, the stations and the optimizer")
    droplets_per_recipe: int = Field(6, ge=1, le=26, description="films cast from one mix")
    recipes_per_wafer: int = Field(6, ge=1, le=50, description="compositions that fit on one wafer")
    thickness_fraction: float = Field(1.0, ge=0.0, le=1.0, description="share of films whose thickness is measured")
    hardware: Literal["simulated", "emulated"] = Field(
        "simulated", description="simulated: stations in direct Python; emulated: drivers + emulated instruments"
    )
    hardware_config: str | None = Field(None, description="bench file of emulated hardware (default: shipped example)")
    faults: float | None = Field(None, ge=0.0, le=1.0, description="emulated hardware: per-reply fault rate")
    strategy: Literal["thompson", "random"] = "thompson"
    name: str | None = Field(None, description="campaign name in the store (default: derived from scenario and seed)")

    @model_validator(mode="after")
    def _hardware_options(self) -> CampaignConfig:
        if self.hardware == "simulated":
            for option in ("faults", "hardware_config"):
                if getattr(self, option) is not None:
                    raise ValueError(f"{option}: only with hardware 'emulated' (got hardware 'simulated')")
        return self

    @property
    def recipes_per_day(self) -> int:
        """Distinct compositions per day: ceil(batch / droplets_per_recipe)."""
        return -(-self.batch // self.droplets_per_recipe)

    def droplets_for(self, slot: int) -> int:
        """Films cast from recipe `slot` of a day; the last recipe takes what is left of the batch."""
        full = self.batch // self.droplets_per_recipe
        if slot < full:
            return self.droplets_per_recipe
        return self.batch - full * self.droplets_per_recipe
