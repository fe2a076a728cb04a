"""The scenario file: a material system described in YAML, validated once (contract: `shared/interfaces.md`).

```yaml
name: opv-blend
parameters: [{name: pce10, low: 0, high: 1}, ...]          # as in the search-space file
constraints: [{sum: [pce10, p3ht, pcbm, oidtbr], equals: 1}]
recipe: {components: [...], mix_volume_ul: 100, min_volume_ul: 0.05, samples_per_recipe: 4, samples_per_substrate: 24}
route:                                                      # stations each sample visits, in order
  - {station: optical, measures: [absorbance_525]}
  - {station: conductivity, measures: [sheet_resistance]}
  - {station: thickness, measures: [thickness], share: 0.5} # profiles half of the samples
derived: {conductivity: "1e7 / (sheet_resistance * thickness)"}
objectives:
  - {name: conductivity, goal: maximize, scale: log, reference: 1}
  - {name: cost, goal: minimize, prices: {pce10: 8, p3ht: 1, pcbm: 3, oidtbr: 6}}
model: {kind: auto}                                         # auto | gp | graph
world: {emulate: past.csv}                                  # or {builtin: p3ht-cnt}
```

Every rule a file can break is checked here, before anything runs or is written, and reported as one line naming
the field (`load_scenario_file`).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lab.errors import ConfigError, validation_message
from lab.yaml_files import read_yaml
from lab.scenarios.formulas import Formula, evaluation_order, measured_roots, parse_formula

#: The lab's station kinds and what each can measure with the emulated instruments behind it.
STATION_KINDS: dict[str, tuple[str, ...]] = {
    "optical": ("absorbance_525", "absorption_ratio"),
    "conductivity": ("sheet_resistance",),
    "thickness": ("thickness",),
    "cycler": (),  # electrode cells: no emulated instrument (simulated only)
}
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
_QUANTITY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ParameterSpec(_Strict):
    """One recipe parameter (as in the search-space file)."""

    name: str = Field(min_length=1, max_length=64)
    low: float | None = None
    high: float | None = None
    values: tuple[float, ...] | None = None
    unit: str = ""


class ConstraintSpec(_Strict):
    """A linear constraint (as in the search-space file)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    names: tuple[str, ...] = Field(alias="sum", min_length=1)
    weights: tuple[float, ...] | None = None
    equals: float | None = None
    at_most: float | None = None
    at_least: float | None = None


class RecipeSpec(_Strict):
    """How one recipe becomes samples: stock solutions mixed by volume, then several samples of the mix."""

    components: tuple[str, ...] | None = Field(
        None, min_length=1, description="parameters dispensed as stock solutions (none: not a mixture)")
    mix_volume_ul: float = Field(100.0, gt=0, le=1e5, description="volume of one mix [uL]")
    min_volume_ul: float = Field(0.05, ge=0, le=1e4, description="smallest volume a pump dispenses [uL]")
    samples_per_recipe: int = Field(1, ge=1, le=26, description="samples made from one mix (replicates)")
    samples_per_substrate: int | None = Field(
        None, ge=1, le=1300, description="samples one substrate (wafer) holds (default: 6 recipes' worth)"
    )

    @property
    def recipes_per_substrate(self) -> int:
        """Recipes whose samples fit on one substrate."""
        if self.samples_per_substrate is None:
            return 6
        return max(1, self.samples_per_substrate // self.samples_per_recipe)


class RouteStep(_Strict):
    """One station a sample visits and the quantities it measures there."""

    station: Literal["optical", "conductivity", "thickness", "cycler"]
    measures: tuple[str, ...] = Field(min_length=1)
    share: float = Field(1.0, ge=0.0, le=1.0, description="share of samples measured here (the rest skip it)")
    optional: dict[str, float] = Field(
        default_factory=dict, description="quantities also measured here on a share of the samples: name -> share")

    @field_validator("measures")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for q in value:
            if not _QUANTITY.fullmatch(q):
                raise ValueError(f"{q[:40]!r} is not a quantity name (letters, digits, _; at most 64)")
        return value

    @field_validator("optional")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        for q, share in value.items():
            if not _QUANTITY.fullmatch(q):
                raise ValueError(f"{q[:40]!r} is not a quantity name (letters, digits, _; at most 64)")
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"share of {q!r} must lie in [0, 1], got {share}")
        return value

    @property
    def quantities(self) -> tuple[str, ...]:
        """Every quantity this station measures: on every sample, then on a share."""
        return (*self.measures, *self.optional)


class ObjectiveSpec(_Strict):
    """An objective: a measured or derived quantity, or a recipe cost from per-component prices."""

    name: str = Field(min_length=1, max_length=64)
    goal: Literal["maximize", "minimize"] = "maximize"
    scale: Literal["linear", "log"] = "linear"
    unit: str = ""
    reference: float | None = Field(None, description="worst value still worth having (hypervolume reference)")
    batch_share: float = Field(0.0, ge=0.0, lt=1.0, description="share of each batch chosen for this objective "
                               "alone (Thompson sampling on it)")
    prices: dict[str, float] | None = Field(None, description="price per unit amount of each component")

    @field_validator("prices")
    @classmethod
    def _finite_prices(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            if not value:
                raise ValueError("prices: list at least one component")
            bad = [k for k, v in value.items() if not (v == v and abs(v) < 1e12)]
            if bad:
                raise ValueError(f"prices: the price of {bad[0]!r} must be a finite number")
        return value


class ModelSpec(_Strict):
    """How objectives are modelled: one GP each, or a graph of GP nodes over the measured intermediates."""

    kind: Literal["auto", "gp", "graph"] = Field(
        "auto", description="auto: graph for derived objectives, a GP for the others; gp: a GP on each objective"
    )


class WorldSpec(_Strict):
    """The ground truth of simulated and emulated runs."""

    emulate: str | None = Field(None, description="CSV of past measurements, relative to the scenario file")
    builtin: str | None = Field(None, description="a built-in scenario's world (`lab scenario list`)")
    failure_rate: float = Field(0.0, ge=0.0, le=0.5, description="share of samples that fail when made")

    @model_validator(mode="after")
    def _one_source(self) -> WorldSpec:
        if (self.emulate is None) == (self.builtin is None):
            raise ValueError("world: give exactly one of emulate (a CSV file) or builtin (a scenario name)")
        return self


class ScenarioSpec(_Strict):
    """A material system the lab runs campaigns on, as a scientist writes it."""

    name: str
    description: str = ""
    parameters: tuple[ParameterSpec, ...] = Field(min_length=1, max_length=50)
    constraints: tuple[ConstraintSpec, ...] = ()
    recipe: RecipeSpec | None = None
    route: tuple[RouteStep, ...] = Field(min_length=1, max_length=10)
    derived: dict[str, str] = Field(default_factory=dict)
    objectives: tuple[ObjectiveSpec, ...] = Field(min_length=1, max_length=10)
    units: dict[str, str] = Field(default_factory=dict)
    model: ModelSpec = ModelSpec()
    world: WorldSpec
    candidates: str | None = Field(
        None, description="CSV pool of recipes the campaign draws every batch from (parameter columns; relative to "
        "the scenario file): premixed stocks, a library, a data set's unmeasured rows")
    #: directory the file was read from (relative paths in `world` and `candidates` resolve against it)
    source_dir: Path = Field(Path("."), exclude=True)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise ValueError("name must be 1-50 lowercase letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        names = [p.name for p in self.parameters]
        if self.recipe is not None and self.recipe.components is not None:
            unknown = [c for c in self.recipe.components if c not in names]
            if unknown:
                raise ValueError(f"recipe.components: {unknown[0]!r} is not a parameter ({', '.join(names[:10])})")
        seen: dict[str, str] = {}
        for i, step in enumerate(self.route):
            for q in step.quantities:
                if q in seen:
                    raise ValueError(f"route.{i}.measures: {q!r} is already measured by station {seen[q]}")
                if q in names:
                    raise ValueError(f"route.{i}.measures: {q!r} is a parameter, not a measured quantity")
                seen[q] = step.station
        stations = [s.station for s in self.route]
        dupes = sorted({s for s in stations if stations.count(s) > 1})
        if dupes:
            raise ValueError(f"route: station {dupes[0]!r} appears twice; list each station once")
        self.formulas  # parses the formulas and checks names and cycles
        quantities = set(self.quantities)
        objective_names = [o.name for o in self.objectives]
        if len(set(objective_names)) != len(objective_names):
            raise ValueError("objectives: duplicate names")
        for o in self.objectives:
            if o.prices is not None:
                if o.name in quantities:
                    raise ValueError(f"objectives.{o.name}.prices: {o.name!r} is a measured or derived quantity")
                unknown = [c for c in o.prices if c not in names]
                if unknown:
                    raise ValueError(f"objectives.{o.name}.prices: unknown component {unknown[0]!r} "
                                     f"(parameters: {', '.join(names[:10])})")
            elif o.name not in quantities:
                raise ValueError(f"objectives.{o.name}: built on nothing: not measured by the route, not derived, "
                                 f"no prices (quantities: {', '.join(sorted(quantities)[:10]) or 'none'})")
        unknown_units = [q for q in self.units if q not in quantities and q not in objective_names]
        if unknown_units:
            raise ValueError(f"units: {unknown_units[0]!r} is not a quantity of this scenario")
        self.search_space  # bounds, constraints and feasibility, checked by the optimizer's own model
        return self

    # ------------------------------------------------------------------ derived views
    @property
    def measured(self) -> list[str]:
        """Quantities the route measures, in route order."""
        return [q for step in self.route for q in step.quantities]

    @cached_property
    def formulas(self) -> dict[str, Formula]:
        """Parsed formulas of the derived quantities."""
        formulas = {}
        for name, text in self.derived.items():
            if not _QUANTITY.fullmatch(name):
                raise ConfigError(f"derived: {name[:40]!r} is not a quantity name (letters, digits, _)")
            formulas[name] = parse_formula(name, text)
        return formulas

    @cached_property
    def derived_order(self) -> list[str]:
        """Derived quantities in evaluation order (unknown names and cycles are refused)."""
        return evaluation_order(self.formulas, set(self.measured))

    @property
    def quantities(self) -> list[str]:
        """Measured then derived quantities."""
        return [*self.measured, *self.derived_order]

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def objective_kind(self, name: str) -> str:
        """How an objective is known: `cost` (prices), `measured`, `graph` (derived, through GP nodes) or `gp`."""
        o = next(o for o in self.objectives if o.name == name)
        if o.prices is not None:
            return "cost"
        if name in self.formulas and self.model.kind in ("auto", "graph"):
            return "graph"
        return "measured" if name in self.measured else "gp"

    def intermediates(self, name: str) -> list[str]:
        """The measured quantities a derived objective is computed from (its graph's GP nodes)."""
        return sorted(measured_roots(self.formulas, name))

    @cached_property
    def search_space(self):
        """The optimizer's `SearchSpace` (parameters, constraints, objectives with their references)."""
        from optimizers.errors import OptimizerError
        from optimizers.search_space import SearchSpace

        data = {
            "parameters": [p.model_dump(exclude_none=True) for p in self.parameters],
            "constraints": [c.model_dump(by_alias=True, exclude_none=True) for c in self.constraints],
            "objectives": [o.model_dump(include={"name", "goal", "scale", "unit", "reference", "batch_share"},
                                         exclude_none=True)
                           for o in self.objectives],
        }
        try:
            return SearchSpace.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(validation_message(exc)) from None
        except OptimizerError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def mixture_total(self) -> float | None:
        """The sum the recipe's components are constrained to (e.g. 1 or 100), if one constraint fixes it."""
        if self.recipe is None or self.recipe.components is None:
            return None
        for c in self.constraints:
            if c.equals is not None and set(c.names) == set(self.recipe.components) and c.weights is None:
                return float(c.equals)
        return None

    def world_path(self) -> Path | None:
        """The emulated world's data file, resolved against the scenario file's directory."""
        if self.world.emulate is None:
            return None
        path = Path(self.world.emulate)
        return path if path.is_absolute() else (self.source_dir / path)

    def candidates_path(self) -> Path | None:
        """The pool of candidate recipes, resolved against the scenario file's directory (None: no pool)."""
        if self.candidates is None:
            return None
        path = Path(self.candidates)
        return path if path.is_absolute() else (self.source_dir / path)

    def candidate_table(self):
        """The pool of candidate recipes as a table, checked against the space (`ConfigError` naming the file and
        what is wrong: unreadable, a parameter column missing, no row inside the bounds and constraints); None
        without a pool. Rows outside the space are dropped later, with a warning, by each proposal."""
        path = self.candidates_path()
        if path is None:
            return None
        from lab.worlds.dataset import read_table
        from optimizers.candidates import read_candidates
        from optimizers.errors import OptimizerError

        try:
            table = read_table(path)
        except ConfigError as exc:
            raise ConfigError(f"candidates ({path.name}): {str(exc).removeprefix('path: ')}") from None
        try:
            read_candidates(self.search_space, table)
        except OptimizerError as exc:
            raise ConfigError(f"candidates ({path.name}): {str(exc).removeprefix('candidates: ')}") from None
        return table

    def check_instrument_route(self) -> None:
        """With instruments (emulated or real) each station measures only its native quantities (`STATION_KINDS`)."""
        for i, step in enumerate(self.route):
            native = STATION_KINDS[step.station]
            if not native:
                raise ConfigError(f"route.{i}.station: {step.station} has no emulated instrument; run simulated")
            other = [q for q in step.quantities if q not in native]
            if other:
                raise ConfigError(f"route.{i}.measures: with emulated hardware station {step.station} measures "
                                  f"{', '.join(native)}, not {other[0]!r}")
        if self.recipe is None or self.recipe.components is None:
            raise ConfigError("recipe.components: emulated hardware mixes stock solutions; list the components")

    def check_world_data(self) -> None:
        """Check the emulated world's data file (columns, numbers, enough recipes) without fitting: cheap, so a
        campaign refuses a bad file before anything is written."""
        path = self.world_path()
        if path is None:
            return
        from lab.worlds.dataset import check_dataset, read_table

        try:
            check_dataset(read_table(path), self.parameter_names, self.measured, bounds=self.search_space.bounds)
        except ConfigError as exc:
            raise ConfigError(f"world.emulate ({path.name}): {exc}") from None

    def model_graph(self) -> list[tuple[str, str]]:
        """Edges of the model graph: recipe -> each modelled node, node -> derived objective."""
        edges = []
        for o in self.objectives:
            kind = self.objective_kind(o.name)
            if kind == "graph":
                for q in self.intermediates(o.name):
                    edges += [("recipe", q), (q, o.name)]
            elif kind in ("measured", "gp"):
                edges.append(("recipe", o.name))
        return list(dict.fromkeys(edges))


def parse_scenario(data: object, source: str, source_dir: Path = Path(".")) -> ScenarioSpec:
    """Validate a scenario mapping; `ConfigError` with one line naming `source` and the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a scenario file must be a mapping of fields, got {type(data).__name__}")
    try:
        return ScenarioSpec.model_validate({**data, "source_dir": source_dir})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {validation_message(exc)}") from None
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_scenario_file(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario file (YAML); `ConfigError` with one line naming the file and field."""
    path = Path(path)
    data = read_yaml(path, "scenario")
    return parse_scenario(data, str(path), path.resolve().parent)
