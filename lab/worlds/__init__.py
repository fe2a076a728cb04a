"""Simulator worlds: physics-based stand-ins for a lab (P3HT/CNT films, Li-ion electrodes)."""

from lab.worlds.calibration import CalibrationReport, CalibrationSettings, calibrate_p3ht_cnt
from lab.worlds.p3ht_cnt import (
    FAILURE_MESSAGES,
    Film,
    MaterialPrices,
    P3HTCNTWorld,
    P3HTCNTWorldConfig,
    campaign_like_compositions,
)
from lab.worlds.p3ht_cnt_landscape import COMPONENTS, ConductivityLandscape, LandscapeParams

__all__ = [
    "COMPONENTS",
    "FAILURE_MESSAGES",
    "CalibrationReport",
    "CalibrationSettings",
    "ConductivityLandscape",
    "Film",
    "LandscapeParams",
    "MaterialPrices",
    "P3HTCNTWorld",
    "P3HTCNTWorldConfig",
    "calibrate_p3ht_cnt",
    "campaign_like_compositions",
]
