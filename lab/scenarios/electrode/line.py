"""Simulated electrode lab: a coating + calendering line that makes cells, and a cycler that tests them.

A cell is one punched, assembled electrode of a recipe coated and calendered that day (a `FilmKey`: day /
coating run / recipe slot / cell letter). The line refuses recipes outside the manufacturability limit
(calendered porosity below the minimum); the space's constraint keeps the optimizer from proposing them.

The cycler measures each cell: thickness (micrometer) and mass (balance) of the punched electrode, giving
porosity, loading and nominal areal capacity, then a 1C and a 4C discharge giving energy and power density and
the share of its capacity the cell delivers at 4C (`utilisation_high`).
Measurement noise (`CyclerSettings`, stated in `summary.json`) is Gaussian, relative for the masses and the
electrochemistry. A share of cells fails like the P2D solver does (IDA_CONV_FAIL near the end of the 4C
discharge: ~1 in 15 random recipes, `../shared/science/electrode_p2d.md`), recorded with the reason.

Every random draw comes from a generator keyed by (seed, stream, cell) (`lab.seeds.film_rng`),
so readings do not depend on the order cells are measured in, and a resumed campaign re-creates exactly the
cells and readings of an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from lab.records import CastResult, FilmKey, Reading
from lab.scenarios.electrode.microstructure import MicrostructureConstants, build_microstructure
from lab.scenarios.electrode.space import RECIPE_COLUMNS
from lab.scenarios.electrode.world import MICROSTRUCTURE_QUANTITIES, QUANTITY_UNITS
from lab.seeds import film_rng

#: Random streams of the electrode lab (distinct from the P3HT/CNT bench's 0-3).
_CYCLER_FAILURE, _METROLOGY, _ELECTROCHEMISTRY = "cycler-failure", "metrology", "electrochemistry"

#: Every quantity a successful cycler reading carries: the objectives, then the microstructure.
CELL_QUANTITIES = ("energy_density", "power_density", "utilisation_high", *MICROSTRUCTURE_QUANTITIES)

#: The failure reason of a solver-failure-like cell.
SOLVER_FAILURE = "P2D solver failure (IDA_CONV_FAIL near the end of the 4C discharge): no energy/power"

#: The noise-free properties of a recipe: quantity -> value (the world's truth).
TruthFunction = Callable[[Mapping[str, float]], Mapping[str, float]]


class CyclerSettings(BaseModel):
    """Measurement noise and failure rate of the simulated cycler (standard deviations; relative ones are fractions).

    Defaults: coin cells punched from one coating scatter by ~1-2 % in 1C capacity and more at 4C (wetting,
    contact resistance), hence 1.5 % on energy and 4 % on power density (and the 4C utilisation, measured in the
    same discharge); a micrometer reads thickness to
    ~1 um; a balance and punch give the disc mass to ~1 %.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    energy_rel_sd: float = Field(0.015, ge=0, le=0.5, description="relative sd of measured energy density")
    power_rel_sd: float = Field(0.04, ge=0, le=0.5, description="relative sd of measured power density")
    thickness_sd_um: float = Field(1.0, ge=0, le=20, description="sd of the measured thickness (um)")
    mass_rel_sd: float = Field(0.01, ge=0, le=0.2, description="relative sd of the measured disc mass (loading)")
    failure_rate: float = Field(1 / 15, ge=0, le=1, description="share of cells failing like the P2D solver")

    def describe(self) -> dict:
        """The noise model in words and numbers, for `summary.json`."""
        return {
            "energy_density": f"x (1 + N(0, {self.energy_rel_sd:g}))",
            "power_density": f"x (1 + N(0, {self.power_rel_sd:g}))",
            "thickness_um": f"+ N(0, {self.thickness_sd_um:g}) um",
            "loading_mg_cm2": f"x (1 + N(0, {self.mass_rel_sd:g})) (disc mass)",
            "porosity": "from the measured thickness and mass",
            "areal_capacity_mAh_cm2": "measured loading x specific capacity",
            "failure_rate": self.failure_rate,
            "failure": SOLVER_FAILURE,
        }


@dataclass
class ElectrodeBench:
    """The cells made so far, keyed by `FilmKey`: each holds its recipe's noise-free properties."""

    truth: TruthFunction
    seed: int = 0
    cells: dict[FilmKey, dict[str, float]] = field(default_factory=dict)

    def cell(self, key: FilmKey) -> dict[str, float]:
        """The true properties of the cell at `key` (KeyError if none was made there)."""
        return self.cells[key]

    def make(self, key: FilmKey, recipe: Mapping[str, float]) -> None:
        """Make (or re-create after a restart) the cell at `key`: making is deterministic."""
        self.cells[key] = dict(self.truth(recipe))


class CoatingCalenderingLine:
    """Coats a recipe's slurry, dries and calenders it, and punches one cell per key (`DropCastingStation` role).

    Args:
        bench: Where the made cells are kept.
        constants: Microstructure constants (for the manufacturability check).
    """

    def __init__(self, bench: ElectrodeBench, constants: MicrostructureConstants | None = None) -> None:
        self.name = "coating + calendering line (simulated)"
        self._bench = bench
        self._constants = constants or MicrostructureConstants()

    def _refusal(self, recipe: Mapping[str, float]) -> str | None:
        """Why the line cannot make `recipe` (calendered porosity under the limit), or None."""
        x = [float(recipe[c]) for c in RECIPE_COLUMNS]
        porosity = float(build_microstructure(*x, constants=self._constants).porosity[0])
        if porosity < self._constants.min_porosity:
            return (f"not manufacturable: calendered porosity {porosity:.3f} < {self._constants.min_porosity:g} "
                    f"(calendering {x[2]:.1f} % too high for this film)")
        return None

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Coat and calender `recipe` once and punch one cell per key (all fail if it is not manufacturable)."""
        refusal = self._refusal(recipe)
        results = []
        for key in films:
            if key in self._bench.cells:
                raise RuntimeError(f"cell {key.sample_id} was already made")
            if refusal is None:
                self._bench.make(key, recipe)
            results.append(CastResult(film=key, station=self.name, failure=refusal))
        return results

    # -- resuming after a crash (see `lab.campaign.cycle.ResumableMaker`) ----------------------------
    def prepare_cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> dict:
        """Nothing to record before making: a simulated coating leaves nothing behind a crash."""
        return {}

    def resolve_interrupted(self, recipe: Mapping[str, float], films: Sequence[FilmKey],
                            journal: Mapping) -> list[CastResult]:
        """Re-create cells the runner lost (making is deterministic)."""
        refusal = self._refusal(recipe)
        for key in films:
            if refusal is None and key not in self._bench.cells:
                self._bench.make(key, recipe)
        return [CastResult(film=key, station=self.name, failure=refusal) for key in films]

    def restore(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> None:
        """Put cells made before a restart back on the bench (no films: a restart notice, nothing to do)."""
        if films and self._refusal(recipe) is None:
            for key in films:
                if key not in self._bench.cells:
                    self._bench.make(key, recipe)


class SimulatedCycler:
    """Measures a cell's microstructure (thickness, mass), its 1C energy, 4C power density and 4C utilisation."""

    def __init__(self, bench: ElectrodeBench, settings: CyclerSettings | None = None,
                 constants: MicrostructureConstants | None = None) -> None:
        self.name = "cycler (simulated)"
        self._bench = bench
        self.settings = settings or CyclerSettings()
        self._constants = constants or MicrostructureConstants()

    def measure(self, film: FilmKey) -> Reading:
        """Measure `film`: the quantities of `QUANTITY_UNITS`, or the solver-like failure."""
        s, seed = self.settings, self._bench.seed
        true = self._bench.cell(film)
        if film_rng(seed, _CYCLER_FAILURE, film).random() < s.failure_rate:
            return Reading(film=film, station=self.name, failure=SOLVER_FAILURE)
        metrology = film_rng(seed, _METROLOGY, film).standard_normal(2)
        thickness = true["thickness_um"] + s.thickness_sd_um * metrology[0]
        mass_factor = 1.0 + s.mass_rel_sd * metrology[1]
        loading = true["loading_mg_cm2"] * mass_factor
        # porosity from mass and volume: the solid volume per area scales with mass / thickness
        porosity = 1.0 - (1.0 - true["porosity"]) * mass_factor * true["thickness_um"] / thickness
        echem = film_rng(seed, _ELECTROCHEMISTRY, film).standard_normal(2)
        high_rate = max(1.0 + s.power_rel_sd * echem[1], 0.05)  # one 4C discharge: power and utilisation
        values = {
            "energy_density": true["energy_density"] * (1.0 + s.energy_rel_sd * echem[0]),
            "power_density": true["power_density"] * high_rate,
            "utilisation_high": true["utilisation_high"] * high_rate,
            "porosity": porosity,
            "thickness_um": thickness,
            "loading_mg_cm2": loading,
            "areal_capacity_mAh_cm2": loading * self._constants.specific_capacity_mAh_g / 1e3,
        }
        units = {q: QUANTITY_UNITS[q] for q in values}
        return Reading(film=film, station=self.name, values=values, units=units)

