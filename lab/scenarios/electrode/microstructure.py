"""Recipe -> electrode microstructure: porosity, thickness, tortuosity, conductivity, loading (vectorised).

The recipe is the process of Duquesnoy et al. (Energy Storage Mater. 2023, doi 10.1016/j.ensm.2022.12.040;
arXiv:2307.05521): NMC active-material content (wt %, the rest is the carbon-binder domain, CBD), slurry solid
content (wt %) and calendering degree (% thickness reduction). Every relation below is a simple, documented
closure; the numbers come from `../shared/science/electrode_p2d.md` unless marked as an assumption.

Conventions: `porosity` is the total electrolyte-filled volume fraction of the coating, *including* the CBD's
internal pores (what a mass/thickness measurement gives and what the P2D model calls porosity). The solid phases
are the active material (volume fraction `am_volume_fraction`) and the CBD skeleton.

1. Solid volume fractions from mass fractions: ``phi_i = (w_i / rho_i) / sum_j (w_j / rho_j)``.
2. Drying (before calendering), calibrated on the two measured points at 94 wt % AM (60 -> 69 % solids:
   porosity 0.487 -> 0.461, thickness 138 -> 178 um):
   - the macro-porosity between particles falls linearly with solid content; the CBD adds its own internal
     pores (``cbd_internal_porosity``), so a CBD-richer film is more porous at the same solid content;
   - the dry areal mass rises linearly with solid content (fixed blade gap; a richer slurry leaves more
     solid behind), and thickness follows from mass: ``L0 = m / (rho_skeleton * (1 - eps0))``.
3. Calendering conserves mass: ``L = L0 (1 - CD)``, ``eps = 1 - (1 - eps0) / (1 - CD)``.
4. Tortuosity (Bruggeman): ``tau = eps ** (1 - b)``, ``b = b_dry + b_calendering_slope * CD`` (assumption:
   calendering flattens pores and presses CBD into them, which raises tortuosity, cf. Ebner et al.,
   Adv. Energy Mater. 2014, 4, 1301278).
5. Electronic conductivity, percolation-like in the apparent CBD volume fraction x (skeleton + its pores):
   ``sigma = sigma_cbd * ((x - x_c) / (1 - x_c)) ** t`` above the threshold ``x_c`` (assumption:
   t = 2 is the 3-D percolation exponent; sigma_cbd and x_c set the 1-50 S/m range typical of NMC cathodes).
6. Specific surface area ``a = f * 3 * eps_AM / R``, with the CBD-free surface share f falling linearly from
   0.70 at 4 wt % CBD to 0.56 at 7.3 wt % CBD (the note's range 0.56-0.70).
7. Density and loading: ``rho_el = rho_skeleton * (1 - eps)``; AM loading ``= w_AM * rho_el * L``; areal
   capacity ``= loading * specific_capacity``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lab.errors import ConfigError


class MicrostructureConstants(BaseModel):
    """Material constants and calibration points of the recipe -> microstructure relations (units in names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    am_density_g_cm3: float = Field(4.65, gt=0, description="NMC111 skeletal density (the note).")
    cbd_density_g_cm3: float = Field(1.8, gt=0, description="C65 carbon + PVdF skeletal density (the note).")
    cbd_internal_porosity: float = Field(0.5, ge=0, lt=1, description="Pores inside the CBD (the note).")
    reference_active_material_wt: float = Field(94.0, gt=0, lt=100, description="AM wt % of the drying data.")
    reference_solid_content: tuple[float, float] = (60.0, 69.0)
    reference_dry_porosity: tuple[float, float] = (0.487, 0.461)
    reference_dry_thickness_um: tuple[float, float] = (138.0, 178.0)
    bruggeman_dry: float = Field(1.5, ge=1.0, description="Bruggeman exponent of an uncalendered film.")
    bruggeman_calendering_slope: float = Field(
        1.0, ge=0.0, description="Rise of the Bruggeman exponent per unit calendering degree (assumption)."
    )
    cbd_network_conductivity_S_m: float = Field(1000.0, gt=0, description="Percolation prefactor (assumption).")
    percolation_threshold: float = Field(0.05, ge=0, lt=1, description="Apparent CBD fraction at onset.")
    percolation_exponent: float = Field(2.0, gt=0, description="3-D percolation conductivity exponent.")
    conductivity_floor_S_m: float = Field(1e-3, gt=0, description="Below threshold (keeps the solver finite).")
    surface_share_at_low_cbd: tuple[float, float] = (4.0, 0.70)
    surface_share_at_high_cbd: tuple[float, float] = (7.3, 0.56)
    particle_radius_m: float = Field(5.3e-6, gt=0, description="NMC particle radius (PyBaMM Xu2019).")
    specific_capacity_mAh_g: float = Field(
        170.0, gt=0, description="Practical NMC532 capacity (mAh/g, 4.2 V charge); the P2D scales the parameter "
        "set's particle capacity to it (Xu2019's 4.2-3.5 V window holds 245 mAh/g as shipped)."
    )
    min_porosity: float = Field(0.2, gt=0, lt=1, description="Manufacturability limit after calendering.")

    @model_validator(mode="after")
    def _check_calibration(self) -> "MicrostructureConstants":
        if self.reference_solid_content[0] == self.reference_solid_content[1]:
            raise ValueError("reference_solid_content: the two calibration points must differ")
        return self


@dataclass(frozen=True)
class Microstructure:
    """Derived electrode properties, each an array of shape `n` (one entry per recipe)."""

    porosity_dry: np.ndarray  #: total porosity before calendering (-)
    thickness_dry_um: np.ndarray  #: coating thickness before calendering (um)
    porosity: np.ndarray  #: total porosity after calendering (-), the P2D porosity
    thickness_um: np.ndarray  #: coating thickness after calendering (um)
    am_volume_fraction: np.ndarray  #: active-material volume fraction (-)
    cbd_volume_fraction: np.ndarray  #: apparent CBD volume fraction, skeleton + internal pores (-)
    bruggeman: np.ndarray  #: Bruggeman exponent b (-)
    tortuosity: np.ndarray  #: eps ** (1 - b) (-)
    conductivity_S_m: np.ndarray  #: effective electronic conductivity (S/m)
    surface_share: np.ndarray  #: CBD-free share f of the particle surface (-)
    specific_surface_area_1_m: np.ndarray  #: electrochemically active area per electrode volume (m2/m3)
    density_g_cm3: np.ndarray  #: coating density (g/cm3)
    loading_mg_cm2: np.ndarray  #: active-material loading (mg/cm2)
    areal_capacity_mAh_cm2: np.ndarray  #: nominal areal capacity (mAh/cm2)

    def to_frame(self) -> pd.DataFrame:
        """One row per recipe, one column per property."""
        return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in asdict(self).items()})

    def row(self, i: int) -> dict[str, float]:
        """The properties of recipe `i` as plain floats."""
        return {k: float(np.asarray(v)[i]) for k, v in asdict(self).items()}


def solid_volume_fractions(
    active_material: np.ndarray, constants: MicrostructureConstants
) -> tuple[np.ndarray, np.ndarray]:
    """Volume fractions of AM and CBD skeleton within the solid (wt % in, each shape `n`, summing to 1)."""
    w = np.asarray(active_material, dtype=float) / 100.0
    v_am = w / constants.am_density_g_cm3
    v_cbd = (1.0 - w) / constants.cbd_density_g_cm3
    return v_am / (v_am + v_cbd), v_cbd / (v_am + v_cbd)


def skeleton_density_g_cm3(active_material: np.ndarray, constants: MicrostructureConstants) -> np.ndarray:
    """Density of the pore-free solid mix (g/cm3): ``1 / sum_i (w_i / rho_i)``."""
    w = np.asarray(active_material, dtype=float) / 100.0
    return 1.0 / (w / constants.am_density_g_cm3 + (1.0 - w) / constants.cbd_density_g_cm3)


def _cbd_pore_share(active_material: np.ndarray, constants: MicrostructureConstants) -> np.ndarray:
    """Share of the non-macro-pore volume (particles + CBD with its pores) taken by CBD internal pores."""
    phi_am, phi_cbd = solid_volume_fractions(active_material, constants)
    p = constants.cbd_internal_porosity
    return phi_cbd * p / (1.0 - p) / (phi_am + phi_cbd / (1.0 - p))


def dry_film(
    active_material: np.ndarray, solid_content: np.ndarray, constants: MicrostructureConstants
) -> tuple[np.ndarray, np.ndarray]:
    """Porosity (-) and thickness (um) of the dried, uncalendered film; inputs in wt %, shape `n`."""
    s = np.asarray(solid_content, dtype=float)
    (s1, s2), (e1, e2), (l1, l2) = (
        constants.reference_solid_content,
        constants.reference_dry_porosity,
        constants.reference_dry_thickness_um,
    )
    w_ref = np.array([constants.reference_active_material_wt])
    g_ref = _cbd_pore_share(w_ref, constants)[0]
    macro1, macro2 = 1.0 - (1.0 - e1) / (1.0 - g_ref), 1.0 - (1.0 - e2) / (1.0 - g_ref)
    macro = macro1 + (macro2 - macro1) * (s - s1) / (s2 - s1)
    porosity = 1.0 - (1.0 - macro) * (1.0 - _cbd_pore_share(active_material, constants))
    rho_ref = skeleton_density_g_cm3(w_ref, constants)[0]
    mass1, mass2 = l1 * rho_ref * (1.0 - e1), l2 * rho_ref * (1.0 - e2)  # g/cm3 * um
    areal_mass = mass1 + (mass2 - mass1) * (s - s1) / (s2 - s1)
    thickness = areal_mass / (skeleton_density_g_cm3(active_material, constants) * (1.0 - porosity))
    return porosity, thickness


def _check_inputs(active_material: np.ndarray, solid_content: np.ndarray, calendering: np.ndarray) -> None:
    """Refuse values without physical meaning (the search space narrows them further)."""
    for name, values, low, high in (
        ("active_material", active_material, 0.0, 100.0),
        ("solid_content", solid_content, 0.0, 100.0),
        ("calendering", calendering, 0.0, 100.0),
    ):
        bad = ~np.isfinite(values) | (values <= low if name != "calendering" else values < low) | (values >= high)
        if bad.any():
            raise ConfigError(
                f"{name}={values[bad][0]:g} is outside the physical range "
                f"{'[' if name == 'calendering' else '('}{low:g}, {high:g}) %"
            )


def build_microstructure(
    active_material: np.ndarray | float,
    solid_content: np.ndarray | float,
    calendering: np.ndarray | float,
    constants: MicrostructureConstants | None = None,
) -> Microstructure:
    """Derive the microstructure of each recipe (AM wt %, solid content wt %, calendering %; broadcast to `n`).

    Porosity may come out below `constants.min_porosity` (or even negative) for heavy calendering of a dense
    film: use `manufacturable` to screen recipes before simulating them.
    """
    c = constants or MicrostructureConstants()
    w, s, cd = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=float)) for v in (active_material, solid_content, calendering))
    )
    _check_inputs(w, s, cd)
    porosity_dry, thickness_dry = dry_film(w, s, c)
    squeeze = 1.0 - cd / 100.0
    porosity = 1.0 - (1.0 - porosity_dry) / squeeze
    thickness = thickness_dry * squeeze
    phi_am, phi_cbd = solid_volume_fractions(w, c)
    solid = 1.0 - porosity
    cbd_apparent = solid * phi_cbd / (1.0 - c.cbd_internal_porosity)
    bruggeman = c.bruggeman_dry + c.bruggeman_calendering_slope * cd / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        tortuosity = np.where(porosity > 0, np.abs(porosity) ** (1.0 - bruggeman), np.inf)
    above = np.clip((cbd_apparent - c.percolation_threshold) / (1.0 - c.percolation_threshold), 0.0, None)
    conductivity = np.maximum(c.cbd_network_conductivity_S_m * above**c.percolation_exponent, c.conductivity_floor_S_m)
    (x_lo, f_lo), (x_hi, f_hi) = c.surface_share_at_low_cbd, c.surface_share_at_high_cbd
    surface_share = np.clip(f_lo + (f_hi - f_lo) * ((100.0 - w) - x_lo) / (x_hi - x_lo), 0.05, 1.0)
    am_fraction = solid * phi_am
    density = skeleton_density_g_cm3(w, c) * solid
    loading = (w / 100.0) * density * thickness * 1e-4 * 1e3  # g/cm3 * cm -> g/cm2 -> mg/cm2
    return Microstructure(
        porosity_dry=porosity_dry,
        thickness_dry_um=thickness_dry,
        porosity=porosity,
        thickness_um=thickness,
        am_volume_fraction=am_fraction,
        cbd_volume_fraction=cbd_apparent,
        bruggeman=bruggeman,
        tortuosity=tortuosity,
        conductivity_S_m=conductivity,
        surface_share=surface_share,
        specific_surface_area_1_m=surface_share * 3.0 * am_fraction / c.particle_radius_m,
        density_g_cm3=density,
        loading_mg_cm2=loading,
        areal_capacity_mAh_cm2=loading * c.specific_capacity_mAh_g / 1e3,
    )


def manufacturable(
    active_material: np.ndarray | float,
    solid_content: np.ndarray | float,
    calendering: np.ndarray | float,
    constants: MicrostructureConstants | None = None,
) -> np.ndarray:
    """Boolean mask (shape `n`): the calendered porosity stays at or above `constants.min_porosity`."""
    c = constants or MicrostructureConstants()
    return build_microstructure(active_material, solid_content, calendering, c).porosity >= c.min_porosity


def max_calendering(
    active_material: np.ndarray | float,
    solid_content: np.ndarray | float,
    constants: MicrostructureConstants | None = None,
) -> np.ndarray:
    """Largest calendering degree (%) keeping porosity >= `min_porosity`: ``1 - (1 - eps0) / (1 - eps_min)``."""
    c = constants or MicrostructureConstants()
    w, s = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (active_material, solid_content)))
    porosity_dry, _ = dry_film(w, s, c)
    return 100.0 * np.clip(1.0 - (1.0 - porosity_dry) / (1.0 - c.min_porosity), 0.0, None)
