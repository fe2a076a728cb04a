"""The P3HT/CNT simulator world: films cast from a composition, their random effects, and what instruments read.

Ground truth for simulated campaigns, emulated instruments and model tests. Composition -> noise-free film
properties (conductivity from the calibrated `ConductivityLandscape`, thickness, absorbance, absorption ratio),
-> one cast film with film-level random effects, -> noisy measurements. Every random draw takes an explicit
`numpy.random.Generator`.

Film-level model (ln units, per composition x):
    t_film     = t(x) exp(e_t)                          e_t ~ N(0, film_thickness_sd)
    u          ~ N(0, 1)                                standardised order / delocalisation deviation
    d_film     = d(x) + film_order_sd * u               ln R of the film carries d_film
    ln s_film  = ln s(x) + ratio_coupling * u + e_o     e_o ~ N(0, sqrt(film_conductivity_sd^2 - ratio_coupling^2))
so the marginal film scatter of ln sigma (hence of ln Rs) is the same whatever `ratio_coupling`; with
`ratio_coupling = 0` the measured ratio says nothing about a film's conductivity beyond its composition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lab.errors import ConfigError
from lab.paths import datasets_dir
from lab.scenarios.p3ht_cnt.landscape import (
    COMPONENTS,
    LOWER_PCT,
    UPPER_PCT,
    ConductivityLandscape,
    LandscapeParams,
    validate_compositions,
)

Step = Literal["cast", "optical", "sheet_resistance", "thickness"]

#: What goes wrong at each step (a failed step yields no value).
FAILURE_MESSAGES: dict[str, str] = {
    "cast": "film dewetted",
    "optical": "spectrometer reference drifted",
    "sheet_resistance": "probe contact check failed",
    "thickness": "profilometer stylus lost contact",
}


def default_params_path() -> Path:
    """`datasets_dir()/p3ht_cnt_world/params.json` (the shipped calibrated parameters)."""
    return datasets_dir() / "p3ht_cnt_world" / "params.json"


class MaterialPrices(BaseModel):
    """Indicative catalogue list prices (USD per gram) and the blend mass of one mix; all configurable.

    Defaults are round, indicative numbers (not quotes): regio-regular P3HT ~500 $/g, long SWCNT ~1500 $/g,
    short SWCNT ~400 $/g, MWCNT ~5 $/g, DWCNT ~300 $/g. Fractions are taken as mass fractions (stocks at equal
    solids concentration); one mix is 100 uL at ~1 mg/mL, i.e. `blend_mass_mg = 0.1`.
    """

    model_config = ConfigDict(frozen=True)
    p3ht: float = Field(500.0, ge=0)
    l_swcnt: float = Field(1500.0, ge=0)
    s_swcnt: float = Field(400.0, ge=0)
    mwcnt: float = Field(5.0, ge=0)
    dwcnt: float = Field(300.0, ge=0)
    blend_mass_mg: float = Field(0.1, gt=0)

    def usd_per_gram(self) -> np.ndarray:
        """Prices in `COMPONENTS` order, shape `5`."""
        return np.array([getattr(self, c) for c in COMPONENTS])

    def usd_per_fraction(self) -> np.ndarray:
        """Cost of one mix per unit mass fraction of each component (USD, `COMPONENTS` order): cost = x @ this."""
        return self.usd_per_gram() * self.blend_mass_mg / 1000.0


class P3HTCNTWorldConfig(BaseModel):
    """Noise levels, coupling and film physics of the world (ln-scale standard deviations unless stated)."""

    model_config = ConfigDict(frozen=True)
    ratio_coupling: float = Field(0.07, ge=0, description="ln sigma per unit standardised order deviation")
    film_conductivity_sd: float = Field(0.10, ge=0, description="film-to-film scatter of ln sigma")
    film_thickness_sd: float = Field(0.075, ge=0, description="film-to-film scatter of ln t")
    film_order_sd: float = Field(0.011, ge=0, description="film-to-film scatter of ln R from order")
    ratio_noise_sd: float = Field(0.005, ge=0)
    absorbance_noise_sd: float = Field(0.25, ge=0, description="relative; spot-to-spot non-uniformity of drop-cast films")
    sheet_resistance_noise_sd: float = Field(0.02, ge=0)
    thickness_noise_sd: float = Field(0.03, ge=0)
    failure_rate: float = Field(0.01, ge=0, le=1, description="probability that one step fails")
    component_thickness_nm: tuple[float, float, float, float, float] = (900.0, 900.0, 250.0, 70.0, 450.0)
    absorptivity_per_um: tuple[float, float, float, float, float] = (0.45, 0.75, 0.5, 0.35, 0.5)
    ratio_at_reference: float = Field(0.86, gt=0, description="R of a film with order index 0")
    ratio_order_slope: float = Field(0.25, description="d ln R / d order index")
    ratio_cnt_slopes: tuple[float, float, float, float] = (0.0, 0.4, 0.6, 0.15)

    @model_validator(mode="after")
    def _coupling_within_scatter(self) -> P3HTCNTWorldConfig:
        if self.ratio_coupling > self.film_conductivity_sd:
            raise ConfigError(
                f"ratio_coupling={self.ratio_coupling} must be in [0, film_conductivity_sd={self.film_conductivity_sd}]"
            )
        return self


@dataclass(frozen=True)
class Film:
    """One cast film: its composition (%) and the random effects realised at casting."""

    composition: tuple[float, float, float, float, float]
    thickness_nm: float
    conductivity_s_cm: float
    order_deviation: float

    @property
    def recipe(self) -> dict[str, float]:
        """Composition as {component: %}."""
        return dict(zip(COMPONENTS, self.composition))


def campaign_like_compositions(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n x 5` compositions (%) spread like a campaign: 1/4 space-filling, 3/4 around the l-SWCNT-rich region.

    Used to check the world's statistics against the real campaign's (whose optimizer dwelt near the optimum).
    """
    lo, hi = LOWER_PCT / 100, UPPER_PCT / 100
    out: list[np.ndarray] = []
    n_uniform = n // 4
    while sum(len(o) for o in out) < n_uniform:
        Z = rng.dirichlet(np.ones(5), size=n)
        out.append(Z[np.all((Z >= lo) & (Z <= hi), axis=1)])
    uni = np.vstack(out)[:n_uniform]
    out = []
    while sum(len(o) for o in out) < n - n_uniform:
        Z = rng.dirichlet(40 * np.array([0.46, 0.44, 0.033, 0.033, 0.034]), size=n)
        out.append(Z[np.all((Z >= lo) & (Z <= hi), axis=1)])
    return 100.0 * np.vstack([uni, np.vstack(out)[: n - n_uniform]])


class P3HTCNTWorld:
    """Ground truth of the P3HT/CNT lab: true properties, film casting, measurements, failures, cost, optimum."""

    def __init__(
        self,
        landscape: ConductivityLandscape,
        config: P3HTCNTWorldConfig | None = None,
        prices: MaterialPrices | None = None,
    ) -> None:
        self.landscape = landscape
        self.config = config or P3HTCNTWorldConfig()
        self.prices = prices or MaterialPrices()

    @classmethod
    def default(
        cls,
        config: P3HTCNTWorldConfig | None = None,
        prices: MaterialPrices | None = None,
        params_path: str | Path | None = None,
    ) -> P3HTCNTWorld:
        """The world built from the shipped parameters (`datasets/p3ht_cnt_world/params.json`)."""
        params = LandscapeParams.load(params_path or default_params_path())
        return cls(ConductivityLandscape(params), config, prices)

    # ---- noise-free composition -> property maps -------------------------------------------------------------
    def true_log_conductivity(self, X: np.ndarray) -> np.ndarray:
        """ln sigma [S/cm] of compositions `X` (`n x 5`, %) -> `n`."""
        return self.landscape.ln_conductivity(X)

    def _ln_thickness(self, frac: np.ndarray) -> np.ndarray:
        return frac @ np.log(np.asarray(self.config.component_thickness_nm))

    def _absorptivity(self, frac: np.ndarray) -> np.ndarray:
        return frac @ np.asarray(self.config.absorptivity_per_um)

    def order_index(self, X: np.ndarray) -> np.ndarray:
        """Composition-driven delocalisation/order d(x), dimensionless: CNTs that conduct also template P3HT order."""
        return (self.true_log_conductivity(X) - 5.0) / 1.5

    def _ln_ratio(self, X: np.ndarray) -> np.ndarray:
        c = self.config
        frac = X / 100.0
        return np.log(c.ratio_at_reference) + c.ratio_order_slope * self.order_index(X) + frac[:, 1:] @ np.asarray(
            c.ratio_cnt_slopes
        )

    def true_properties(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free `conductivity` [S/cm], `absorbance_525`, `absorption_ratio` (A602/A525),
        `sheet_resistance` [Ohm/sq] and `thickness` [nm] of compositions `X` (`n x 5`, %), one row each."""
        X = validate_compositions(X)
        frac = X / 100.0
        sigma = np.exp(self.true_log_conductivity(X))
        t = np.exp(self._ln_thickness(frac))
        return pd.DataFrame(
            {
                "conductivity": sigma,
                "absorbance_525": t / 1000.0 * self._absorptivity(frac),
                "absorption_ratio": np.exp(self._ln_ratio(X)),
                "sheet_resistance": 1e7 / (sigma * t),
                "thickness": t,
            }
        )

    # ---- films and measurements ------------------------------------------------------------------------------
    def cast_film(self, x: np.ndarray | dict, rng: np.random.Generator) -> Film:
        """Cast one film of composition `x` (5 values in %, or {component: %}) and realise its random effects."""
        if isinstance(x, dict):
            missing = [c for c in COMPONENTS if c not in x]
            if missing:
                raise ConfigError(f"recipe lacks component(s) {', '.join(missing)}")
            x = [x[c] for c in COMPONENTS]
        X = validate_compositions(np.asarray(x, float)[None, :])
        c = self.config
        u = float(rng.standard_normal())
        other_sd = float(np.sqrt(max(c.film_conductivity_sd**2 - c.ratio_coupling**2, 0.0)))
        ln_sigma = self.true_log_conductivity(X)[0] + c.ratio_coupling * u + other_sd * rng.standard_normal()
        ln_t = self._ln_thickness(X / 100.0)[0] + c.film_thickness_sd * rng.standard_normal()
        return Film(
            composition=tuple(float(v) for v in X[0]),
            thickness_nm=float(np.exp(ln_t)),
            conductivity_s_cm=float(np.exp(ln_sigma)),
            order_deviation=u,
        )

    def measure_optical(self, film: Film, rng: np.random.Generator) -> dict[str, float]:
        """UV-vis-NIR reading: `absorbance_525` (Beer-Lambert in film thickness) and `absorption_ratio` A602/A525."""
        c = self.config
        X = np.asarray(film.composition)[None, :]
        absorb = film.thickness_nm / 1000.0 * self._absorptivity(X / 100.0)[0]
        ln_r = self._ln_ratio(X)[0] + c.film_order_sd * film.order_deviation
        return {
            "absorbance_525": float(absorb * np.exp(c.absorbance_noise_sd * rng.standard_normal())),
            "absorption_ratio": float(np.exp(ln_r + c.ratio_noise_sd * rng.standard_normal())),
        }

    def measure_sheet_resistance(self, film: Film, rng: np.random.Generator) -> float:
        """4-point-probe sheet resistance [Ohm/sq] = 1e7 / (sigma_film t_film), with probe noise."""
        rs = 1e7 / (film.conductivity_s_cm * film.thickness_nm)
        return float(rs * np.exp(self.config.sheet_resistance_noise_sd * rng.standard_normal()))

    def measure_thickness(self, film: Film, rng: np.random.Generator) -> float:
        """Profilometer thickness [nm] with instrument noise."""
        return float(film.thickness_nm * np.exp(self.config.thickness_noise_sd * rng.standard_normal()))

    def draw_failure(self, step: Step, rng: np.random.Generator) -> str | None:
        """Whether `step` fails this time (probability `failure_rate`): the failure message, else None."""
        if step not in FAILURE_MESSAGES:
            raise ConfigError(f"step={step!r} is not one of {', '.join(FAILURE_MESSAGES)}")
        return FAILURE_MESSAGES[step] if rng.random() < self.config.failure_rate else None

    # ---- objectives ------------------------------------------------------------------------------------------
    def cost(self, X: np.ndarray) -> np.ndarray:
        """Material cost [USD] of one mix (`prices.blend_mass_mg`) of each composition in `X` (`n x 5`, %)."""
        X = validate_compositions(X)
        return X / 100.0 @ self.prices.usd_per_fraction()

    @cached_property
    def _optimum(self) -> tuple[np.ndarray, float]:
        return self.landscape.optimum

    def optimum(self) -> tuple[dict[str, float], float]:
        """The max true conductivity over the bounded simplex: ({component: %}, sigma [S/cm]). Deterministic."""
        x, sigma = self._optimum
        return {c: float(v) for c, v in zip(COMPONENTS, x)}, sigma

    def distance_to_data(self, X: np.ndarray) -> np.ndarray:
        """Each composition's (`n x 5`, %) distance in fraction units to the nearest real composition the
        landscape was calibrated on: how far a recipe's truth is extrapolated."""
        return self.landscape.distance_to_data(validate_compositions(X))

    @cached_property
    def true_front(self) -> pd.DataFrame:
        """The true Pareto front of conductivity against cost (`lab.scenarios.p3ht_cnt.front.FRONT_COLUMNS`).

        The one shipped with the landscape (`params.json`, `front`) when it was computed for these prices;
        otherwise computed now (a few seconds).
        """
        from lab.scenarios.p3ht_cnt.front import FRONT_COLUMNS, true_front

        shipped = self.landscape.params.front
        if shipped and shipped.get("prices") == self.prices.model_dump():
            return pd.DataFrame(shipped["points"], columns=list(FRONT_COLUMNS))
        return true_front(self.landscape, self.prices.usd_per_fraction())
