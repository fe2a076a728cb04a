"""Recipe -> microstructure -> P2D (PyBaMM DFN half-cell) -> energy and power density, failures recorded.

The cathode is simulated against lithium metal: `pybamm.lithium_ion.DFN({"working electrode": "positive"})`
with the `Xu2019` (NMC532) parameter set. Per recipe the model is rebuilt (thickness is a geometric
parameter, it cannot be an input) with the microstructure of `microstructure.py`:

- porosity, thickness, active-material volume fraction, particle radius (the constants);
- "Positive electrode Bruggeman coefficient (electrolyte)" = b, so the electrolyte sees ``eps / tau``;
- "Positive electrode conductivity [S.m-1]" = the effective conductivity, with the electrode Bruggeman
  coefficient set to 0 so PyBaMM does not correct it a second time;
- the exchange-current density scaled by the CBD-free surface share f: PyBaMM's surface area is
  ``3 eps_AM / R``, so this gives the volumetric reaction rate of ``a = f * 3 eps_AM / R``;
- "Nominal cell capacity [A.h]" = areal capacity (loading x specific capacity) x electrode area, so a C-rate
  means the same thing for every recipe;
- the particle's maximum and initial lithium concentrations scaled by practical / shipped window capacity
  (`WINDOW_CAPACITY_MAH_G`): Xu2019's 4.2 -> 3.5 V window holds 245 mAh/g as shipped, 1.5x the practical
  NMC532 capacity (170 mAh/g, `MicrostructureConstants.specific_capacity_mAh_g`); scaled, the same OCP window
  holds the practical capacity (a C/20 discharge delivers 99.7 % of nominal), so currents and utilisation
  are those of a real NMC532 cathode.

Two constant-current discharges from the charged state to the 3.5 V cut-off: `low_c_rate` (default 1C) and
`high_c_rate` (default 4C), each with an end time of `end_time_factor` x the nominal duration; a run that does
not end on the voltage cut-off, or whose solver fails (e.g. IDA_CONV_FAIL), is a failed result, never raised.
Why 4C: these coatings are 70-200 um thick (~5.5 mAh/cm2, against Xu2019's 42 um), so the high rate is the
rate at which the median cell still delivers >= 30 % of its capacity (measured on 8 space-filling recipes:
median utilisation 92 % at 1C, 60 % at 3C, 39 % at 4C, 21 % at 5C); at 5C most cells only show electrolyte
starvation.

Objectives (both maximized), normalised by the volume of the cathode's share of a cell stack: coating +
separator + half the aluminium collector foil (the foil is coated on both sides). Thick electrodes dilute the
fixed separator/foil overhead, dense ones pack more active material per litre:

- ``energy_density`` [Wh/L] = discharge energy at `low_c_rate` / stack volume;
- ``power_density`` [W/L] = discharge energy at `high_c_rate` / (1 h / high_c_rate) / stack volume: the mean
  power over the nominal high-rate discharge time. A dense, thick electrode that reaches the cut-off early
  delivers little of its energy in that window; a porous, thin one keeps it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lab.errors import ConfigError, OptionalDependencyError
from lab.scenarios.electrode.microstructure import MicrostructureConstants, build_microstructure
from lab.scenarios.electrode.space import RECIPE_COLUMNS

#: Specific capacity (mAh/g) of each parameter set's 4.2 V -> cut-off window as shipped (Xu2019: checked by a
#: C/20 discharge); the P2D scales the particle's maximum and initial concentration by
#: `MicrostructureConstants.specific_capacity_mAh_g` / this, so the window holds the practical capacity.
WINDOW_CAPACITY_MAH_G = {"Xu2019": 245.0}

#: Solver options added to IDAKLU's defaults: quiet, and stop a run that stalls (500 steps within 1 s).
DEFAULT_SOLVER_OPTIONS: dict[str, Any] = {
    "silence_sundials_errors": True,
    "num_steps_no_progress": 500,
    "t_no_progress": 1.0,
}


class P2DSettings(BaseModel):
    """How each recipe is simulated: parameter set, C-rates, end time, stack overhead, solver options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameter_set: str = "Xu2019"
    low_c_rate: float = Field(1.0, gt=0, le=20, description="C-rate of the energy discharge (1/h).")
    high_c_rate: float = Field(4.0, gt=0, le=50, description="C-rate of the power discharge (1/h): the rate at "
                               "which the median cell still delivers >= 30 % of its capacity.")
    end_time_factor: float = Field(1.5, ge=1.0, description="End time / nominal discharge duration.")
    separator_thickness_um: float = Field(25.0, ge=0, description="Separator in the stack (Xu2019: 25 um).")
    collector_thickness_um: float = Field(15.0, ge=0, description="Al foil; half of it counts per coating.")
    solver_options: dict[str, Any] = Field(default_factory=dict, description="Overlay on IDAKLU options.")

    @model_validator(mode="after")
    def _check_rates(self) -> "P2DSettings":
        if self.high_c_rate <= self.low_c_rate:
            raise ValueError(f"high_c_rate={self.high_c_rate} must exceed low_c_rate={self.low_c_rate}")
        return self


@dataclass(frozen=True)
class P2DResult:
    """One simulated recipe: inputs, microstructure, performance, objectives, status and cost."""

    recipe: dict[str, float]
    microstructure: dict[str, float]
    performance: dict[str, float]
    status: str  #: "ok", "failed" (solver or cut-off not reached) or "infeasible" (not manufacturable)
    failure: str  #: why it is not "ok" ("" when ok)
    wall_time_s: float
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """Whether both discharges ran to the voltage cut-off."""
        return self.status == "ok"

    def as_row(self) -> dict[str, Any]:
        """A flat record: recipe, microstructure, performance, objectives, status, failure, wall time."""
        return {
            **self.recipe,
            **self.microstructure,
            **self.performance,
            "status": self.status,
            "failure": self.failure,
            "wall_time_s": self.wall_time_s,
        }


PERFORMANCE_COLUMNS = (
    "nominal_capacity_mAh_cm2",
    "capacity_low_mAh_cm2",
    "energy_low_mWh_cm2",
    "mean_voltage_low_V",
    "capacity_high_mAh_cm2",
    "energy_high_mWh_cm2",
    "mean_voltage_high_V",
    "utilisation_high",
    "stack_thickness_um",
    "energy_density",
    "power_density",
)


def import_pybamm() -> Any:
    """Import PyBaMM without its telemetry prompt; a clear error when the `[p2d]` extra is missing."""
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    try:
        import pybamm
    except ImportError:
        raise OptionalDependencyError("the P2D world needs PyBaMM: pip install 'closed-loop-lab[p2d]'") from None
    return pybamm


def _recipe_values(recipe: Mapping[str, float]) -> dict[str, float]:
    """The three recipe fields as floats; `ConfigError` naming a missing or non-numeric one."""
    values = {}
    for name in RECIPE_COLUMNS:
        if name not in recipe:
            raise ConfigError(f"recipe: missing {name!r} (needs {', '.join(RECIPE_COLUMNS)})")
        try:
            values[name] = float(recipe[name])
        except (TypeError, ValueError):
            raise ConfigError(f"recipe: {name}={recipe[name]!r} is not a number") from None
    return values


def make_model() -> Any:
    """The unparameterised DFN half-cell; parameter processing copies it, so one instance serves many recipes."""
    pybamm = import_pybamm()
    return pybamm.lithium_ion.DFN({"working electrode": "positive", "calculate discharge energy": "true"})


def _build_simulation(
    pybamm: Any,
    model: Any,
    micro: dict[str, float],
    capacity_ah: float,
    c: MicrostructureConstants,
    settings: P2DSettings,
) -> Any:
    """A PyBaMM simulation of this microstructure, the current left as an input (one build, two solves)."""
    values = pybamm.ParameterValues(settings.parameter_set)
    window = WINDOW_CAPACITY_MAH_G.get(settings.parameter_set)
    if window is not None:  # the same OCP window (stoichiometries), the practical capacity
        scale = c.specific_capacity_mAh_g / window
        for name in ("Maximum concentration in positive electrode [mol.m-3]",
                     "Initial concentration in positive electrode [mol.m-3]"):
            values[name] = values[name] * scale
    exchange = values["Positive electrode exchange-current density [A.m-2]"]
    share = micro["surface_share"]

    def scaled_exchange(c_e: Any, c_s_surf: Any, c_s_max: Any, T: Any) -> Any:
        return share * exchange(c_e, c_s_surf, c_s_max, T)

    values.update(
        {
            "Positive electrode thickness [m]": micro["thickness_um"] * 1e-6,
            "Positive electrode porosity": micro["porosity"],
            "Positive electrode active material volume fraction": micro["am_volume_fraction"],
            "Positive particle radius [m]": c.particle_radius_m,
            "Positive electrode Bruggeman coefficient (electrolyte)": micro["bruggeman"],
            "Positive electrode Bruggeman coefficient (electrode)": 0.0,
            "Positive electrode conductivity [S.m-1]": micro["conductivity_S_m"],
            "Positive electrode exchange-current density [A.m-2]": scaled_exchange,
            "Separator thickness [m]": settings.separator_thickness_um * 1e-6,
            "Nominal cell capacity [A.h]": capacity_ah,
            "Current function [A]": "[input]",
        }
    )
    solver = pybamm.IDAKLUSolver(options={**DEFAULT_SOLVER_OPTIONS, **settings.solver_options})
    return pybamm.Simulation(model, parameter_values=values, solver=solver)


def electrode_area_cm2(settings: P2DSettings | None = None) -> float:
    """Electrode area of the parameter set (cm2), which converts areal capacity into a cell capacity."""
    values = import_pybamm().ParameterValues((settings or P2DSettings()).parameter_set)
    return float(values["Electrode height [m]"] * values["Electrode width [m]"]) * 1e4


def _simulation_errors(pybamm: Any) -> tuple[type[BaseException], ...]:
    """Exceptions that mean "this recipe could not be simulated" (recorded as a failed result)."""
    pybamm_errors = (pybamm.SolverError, pybamm.ModelError, pybamm.DiscretisationError, pybamm.ShapeError)
    return (RuntimeError, ArithmeticError, ValueError, *pybamm_errors)


def _discharge(
    pybamm: Any, sim: Any, c_rate: float, capacity_ah: float, settings: P2DSettings, keep_curve: bool = False
) -> dict[str, Any]:
    """One constant-current discharge; raises `RuntimeError` with the reason when it does not reach the cut-off."""
    duration_s = 3600.0 / c_rate
    try:
        sol = sim.solve(
            [0.0, settings.end_time_factor * duration_s], inputs={"Current function [A]": c_rate * capacity_ah}
        )
    except pybamm.SolverError as exc:
        raise RuntimeError(f"{c_rate:g}C discharge: solver error: {str(exc).splitlines()[0]}") from None
    if "Minimum voltage" not in str(sol.termination):
        raise RuntimeError(f"{c_rate:g}C discharge ended by {sol.termination!r}, not the voltage cut-off")
    capacity = np.asarray(sol["Discharge capacity [A.h]"].entries)
    curve = (
        {
            "time_s": np.asarray(sol.t),
            "voltage_V": np.asarray(sol["Voltage [V]"].entries),
            "capacity_mAh": 1e3 * capacity,
        }
        if keep_curve
        else {}
    )
    return {
        "capacity_ah": float(capacity[-1]),
        "energy_wh": float(sol["Discharge energy [W.h]"].entries[-1]),
        "curve": curve,
    }


def simulate_recipe(
    recipe: Mapping[str, float],
    constants: MicrostructureConstants | None = None,
    settings: P2DSettings | None = None,
    keep_curves: bool = False,
    model: Any | None = None,
) -> P2DResult:
    """Simulate one recipe (AM wt %, solid content wt %, calendering %) at the two C-rates.

    Bad recipe fields raise `ConfigError`; a recipe that is not manufacturable (porosity below
    `constants.min_porosity`) returns status "infeasible" without simulating; solver failures and runs that
    miss the voltage cut-off return status "failed" with the reason. Objectives are NaN unless status is "ok".
    `keep_curves` keeps the voltage curve of each discharge in `result.curves` (keys "low", "high").
    `model` is a DFN from `make_model()` to reuse across recipes (saves ~0.3 s per recipe).
    """
    start = time.perf_counter()
    c = constants or MicrostructureConstants()
    settings = settings or P2DSettings()
    values = _recipe_values(recipe)
    micro = build_microstructure(*(values[n] for n in RECIPE_COLUMNS), constants=c).row(0)
    perf = {name: float("nan") for name in PERFORMANCE_COLUMNS}
    stack_um = micro["thickness_um"] + settings.separator_thickness_um + 0.5 * settings.collector_thickness_um
    perf["stack_thickness_um"] = stack_um
    perf["nominal_capacity_mAh_cm2"] = micro["areal_capacity_mAh_cm2"]

    def result(status: str, failure: str = "", curves: dict | None = None) -> P2DResult:
        return P2DResult(values, micro, perf, status, failure, time.perf_counter() - start, curves or {})

    if not micro["porosity"] >= c.min_porosity:
        return result("infeasible", f"porosity {micro['porosity']:.3f} < {c.min_porosity:g} (manufacturability limit)")
    pybamm = import_pybamm()
    area_cm2 = electrode_area_cm2(settings)
    capacity_ah = micro["areal_capacity_mAh_cm2"] * area_cm2 / 1e3
    runs: dict[str, dict[str, Any]] = {}
    try:
        sim = _build_simulation(pybamm, model if model is not None else make_model(), micro, capacity_ah, c, settings)
        for key, rate in (("low", settings.low_c_rate), ("high", settings.high_c_rate)):
            runs[key] = _discharge(pybamm, sim, rate, capacity_ah, settings, keep_curves)
    except _simulation_errors(pybamm) as exc:  # solver, casadi, model or parameter failures of this recipe
        failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if type(exc) is not RuntimeError:  # ours carry their own context; name the others
            failure = f"{type(exc).__name__}: {failure}"
        _fill_performance(perf, runs, area_cm2, stack_um, settings, capacity_ah)
        return result("failed", failure, {k: r["curve"] for k, r in runs.items()} if keep_curves else None)
    _fill_performance(perf, runs, area_cm2, stack_um, settings, capacity_ah)
    return result("ok", "", {k: r["curve"] for k, r in runs.items()} if keep_curves else None)


def _fill_performance(
    perf: dict[str, float],
    runs: dict[str, dict[str, Any]],
    area_cm2: float,
    stack_um: float,
    settings: P2DSettings,
    capacity_ah: float,
) -> None:
    """Per-area results of the discharges that ran, and the objectives when both did (in place)."""
    stack_cm = stack_um * 1e-4
    for key in ("low", "high"):
        if key not in runs:
            continue
        cap, energy = runs[key]["capacity_ah"], runs[key]["energy_wh"]
        perf[f"capacity_{key}_mAh_cm2"] = 1e3 * cap / area_cm2
        perf[f"energy_{key}_mWh_cm2"] = 1e3 * energy / area_cm2
        perf[f"mean_voltage_{key}_V"] = energy / cap if cap > 0 else float("nan")
    if "high" in runs:
        perf["utilisation_high"] = runs["high"]["capacity_ah"] / capacity_ah
    if "low" in runs and "high" in runs:
        perf["energy_density"] = 1e3 * runs["low"]["energy_wh"] / area_cm2 / stack_cm  # Wh/cm3 -> Wh/L
        perf["power_density"] = 1e3 * runs["high"]["energy_wh"] * settings.high_c_rate / area_cm2 / stack_cm


def simulate_recipes(
    recipes: Iterable[Mapping[str, float]],
    constants: MicrostructureConstants | None = None,
    settings: P2DSettings | None = None,
) -> list[dict[str, Any]]:
    """Simulate several recipes with one shared DFN instance; one flat record (`P2DResult.as_row`) each."""
    model = make_model()
    return [simulate_recipe(r, constants, settings, model=model).as_row() for r in recipes]
