"""The search space: parameters, linear constraints and objectives, validated once when built.

The YAML form is the public contract of `../shared/interfaces.md`:

```yaml
parameters:
  - {name: p3ht, low: 15, high: 96.3, unit: "%"}
  - {name: level, values: [1, 2, 4]}          # discrete levels
constraints:
  - {sum: [p3ht, l_swcnt, ...], equals: 100}
  - {sum: [mwcnt, dwcnt], at_most: 50}
objectives:
  - {name: conductivity, goal: maximize, scale: log}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizers.errors import InfeasibleSpaceError, SearchSpaceError

if TYPE_CHECKING:  # torch and pandas only where tensors and tables are made: reading a space stays light
    import pandas as pd
    import torch

#: Relative tolerance on sum constraints (the public contract: sums within 1e-6 relative).
SUM_RTOL = 1e-6
#: Largest magnitude of a bound, weight or constraint value (beyond it ranges overflow to inf in float64).
MAX_MAGNITUDE = 1e12


class Parameter(BaseModel):
    """One recipe parameter: continuous in [low, high], or discrete when `values` lists its levels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    low: float | None = None
    high: float | None = None
    values: tuple[float, ...] | None = None
    unit: str = ""

    @model_validator(mode="after")
    def _check_range(self) -> "Parameter":
        if self.values is not None:
            if len(self.values) == 0:
                raise ValueError(f"parameter {self.name!r}: `values` must list at least one level")
            levels = sorted(self.values)
            object.__setattr__(self, "values", tuple(levels))
            if self.low is None:
                object.__setattr__(self, "low", float(levels[0]))
            if self.high is None:
                object.__setattr__(self, "high", float(levels[-1]))
        if self.low is None or self.high is None:
            raise ValueError(f"parameter {self.name!r}: needs `low` and `high` (or `values`)")
        if not np.isfinite(self.low) or not np.isfinite(self.high) or self.low > self.high:
            raise ValueError(
                f"parameter {self.name!r}: low={self.low} must be finite and <= high={self.high}"
            )
        if max(abs(self.low), abs(self.high)) > MAX_MAGNITUDE:
            raise ValueError(f"parameter {self.name!r}: bounds must lie within +-{MAX_MAGNITUDE:g} "
                             f"(got [{self.low:g}, {self.high:g}]); rescale the parameter")
        return self

    @property
    def is_discrete(self) -> bool:
        """Whether the parameter takes only the listed levels."""
        return self.values is not None


class LinearConstraint(BaseModel):
    """`sum(weights * params) (== | <= | >=) bound`; weights default to 1 (a plain sum)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    names: tuple[str, ...] = Field(alias="sum", min_length=1)
    weights: tuple[float, ...] | None = None
    equals: float | None = None
    at_most: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> "LinearConstraint":
        given = [k for k in ("equals", "at_most", "at_least") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"constraint on {list(self.names)}: give exactly one of equals, at_most, at_least"
            )
        if self.weights is not None and len(self.weights) != len(self.names):
            raise ValueError(f"constraint on {list(self.names)}: one weight per name")
        if self.weights is not None and not all(np.isfinite(w) and abs(w) <= MAX_MAGNITUDE for w in self.weights):
            raise ValueError(f"constraint on {list(self.names)}: weights must be finite numbers within "
                             f"+-{MAX_MAGNITUDE:g} (got {list(self.weights)})")
        bound = next(getattr(self, k) for k in ("equals", "at_most", "at_least") if getattr(self, k) is not None)
        if not np.isfinite(bound) or abs(bound) > MAX_MAGNITUDE:
            raise ValueError(f"constraint on {list(self.names)}: its bound must be a finite number within "
                             f"+-{MAX_MAGNITUDE:g} (got {bound})")
        return self

    @property
    def coefficients(self) -> tuple[float, ...]:
        """The weight of each named parameter."""
        return self.weights if self.weights is not None else (1.0,) * len(self.names)

    @property
    def bound(self) -> float:
        """The right-hand side of the constraint."""
        return float(next(v for v in (self.equals, self.at_most, self.at_least) if v is not None))


class Objective(BaseModel):
    """An objective column: its direction and the scale it is modelled on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    goal: Literal["maximize", "minimize"] = "maximize"
    scale: Literal["linear", "log"] = "linear"
    unit: str = ""
    reference: float | None = Field(
        None,
        description="the worst value still worth having, in the column's units: this objective's hypervolume "
        "reference point (default: inferred from the data by botorch's rule)",
    )
    batch_share: float = Field(
        0.0, ge=0.0, lt=1.0, description="share of each batch's recipes chosen for this objective alone, by "
        "Thompson sampling on it (the default strategy; 0: every recipe from the joint trade-off)",
    )

    @property
    def sign(self) -> float:
        """+1 for an objective maximized, -1 for one minimized."""
        return 1.0 if self.goal == "maximize" else -1.0

    def oriented(self, values: np.ndarray, log=np.log) -> np.ndarray:
        """Raw values -> larger-is-better values on the objective's scale (`log` of them for `scale: log`).

        The one definition of an objective's orientation: the optimizer models `oriented` values (natural log),
        the campaign scores hypervolumes on them (`log=np.log10`). Non-positive values on a log scale are NaN.
        """
        v = np.asarray(values, dtype=float)
        if self.scale == "log":
            with np.errstate(all="ignore"):
                v = np.where(v > 0, log(np.where(v > 0, v, 1.0)), np.nan)
        return self.sign * v

    @model_validator(mode="after")
    def _check_reference(self) -> "Objective":
        if self.reference is not None and (not np.isfinite(self.reference) or (self.scale == "log" and self.reference <= 0)):
            allowed = "a positive finite number (scale: log)" if self.scale == "log" else "a finite number"
            raise ValueError(f"objectives.{self.name}.reference: {self.reference!r} is not {allowed}")
        return self


class SearchSpace(BaseModel):
    """Parameters, linear constraints and objectives; checked for consistency and feasibility."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameters: tuple[Parameter, ...] = Field(min_length=1)
    constraints: tuple[LinearConstraint, ...] = ()
    objectives: tuple[Objective, ...] = ()

    @model_validator(mode="after")
    def _check_names(self) -> "SearchSpace":
        names = [p.name for p in self.parameters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"parameters: duplicate names {dupes}")
        for c in self.constraints:
            unknown = [n for n in c.names if n not in names]
            if unknown:
                raise ValueError(f"constraint names unknown parameters {unknown}; known: {names}")
        obj_names = [o.name for o in self.objectives]
        clash = sorted(set(obj_names) & set(names))
        if clash:
            raise ValueError(f"objectives {clash} are also parameter names")
        self._check_feasible()
        return self

    def _check_feasible(self) -> None:
        """Refuse constraints that no point inside the bounds can satisfy (interval reasoning)."""
        lows, highs = self.bounds
        index = {n: i for i, n in enumerate(self.names)}
        for c in self.constraints:
            w = np.array(c.coefficients)
            lo_b = lows[[index[n] for n in c.names]]
            hi_b = highs[[index[n] for n in c.names]]
            reach_lo = float(np.sum(np.minimum(w * lo_b, w * hi_b)))
            reach_hi = float(np.sum(np.maximum(w * lo_b, w * hi_b)))
            tol = SUM_RTOL * max(1.0, abs(c.bound))
            if c.equals is not None and not (reach_lo - tol <= c.equals <= reach_hi + tol):
                raise InfeasibleSpaceError(
                    f"constraint sum{list(c.names)} == {c.equals} is infeasible: the bounds allow "
                    f"[{reach_lo:g}, {reach_hi:g}]"
                )
            if c.at_most is not None and reach_lo > c.at_most + tol:
                raise InfeasibleSpaceError(
                    f"constraint sum{list(c.names)} <= {c.at_most} is infeasible: the bounds give "
                    f"at least {reach_lo:g}"
                )
            if c.at_least is not None and reach_hi < c.at_least - tol:
                raise InfeasibleSpaceError(
                    f"constraint sum{list(c.names)} >= {c.at_least} is infeasible: the bounds give "
                    f"at most {reach_hi:g}"
                )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: dict) -> "SearchSpace":
        """Build and validate a space from a plain mapping; errors become `SearchSpaceError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            cause = first.get("ctx", {}).get("error")
            if isinstance(cause, SearchSpaceError):
                raise cause from None
            where = ".".join(str(p) for p in first["loc"])
            msg = first["msg"].removeprefix("Value error, ")
            raise SearchSpaceError(f"search space{' ' + where if where else ''}: {msg}") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SearchSpace":
        """Load a search space YAML file (format in `../shared/interfaces.md`)."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except UnicodeDecodeError:
            raise SearchSpaceError(f"search space file {path}: not a text file (search spaces are YAML)") from None
        except OSError as exc:
            raise SearchSpaceError(f"search space file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise SearchSpaceError(f"search space file {path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise SearchSpaceError(f"search space file {path}: expected a mapping at top level")
        return cls.from_dict(data)

    # ------------------------------------------------------------------ views
    @property
    def names(self) -> list[str]:
        """Parameter names in column order."""
        return [p.name for p in self.parameters]

    @property
    def objective_names(self) -> list[str]:
        """Objective names in order."""
        return [o.name for o in self.objectives]

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.parameters)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds, each of shape `d`."""
        return (
            np.array([p.low for p in self.parameters], dtype=float),
            np.array([p.high for p in self.parameters], dtype=float),
        )

    def bounds_tensor(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Bounds as the `2 x d` tensor botorch expects (`dtype` default: double)."""
        import torch

        lows, highs = self.bounds
        return torch.tensor(np.stack([lows, highs]), dtype=dtype or torch.double)

    def linear_constraints_tensors(
        self, dtype: torch.dtype | None = None
    ) -> tuple[list[tuple[torch.Tensor, torch.Tensor, float]], list[tuple[torch.Tensor, torch.Tensor, float]]]:
        """Equality and `>=` inequality constraints in botorch's `(indices, coefficients, rhs)` form (`dtype`
        default: double)."""
        import torch

        dtype = dtype or torch.double
        index = {n: i for i, n in enumerate(self.names)}
        equalities, inequalities = [], []
        for c in self.constraints:
            idx = torch.tensor([index[n] for n in c.names], dtype=torch.long)
            coef = torch.tensor(c.coefficients, dtype=dtype)
            if c.equals is not None:
                equalities.append((idx, coef, float(c.equals)))
            elif c.at_least is not None:
                inequalities.append((idx, coef, float(c.at_least)))
            else:  # at_most: -w.x >= -b
                inequalities.append((idx, -coef, -float(c.at_most)))
        return equalities, inequalities

    def objective(self, name: str) -> Objective:
        """The objective called `name`."""
        for o in self.objectives:
            if o.name == name:
                return o
        raise SearchSpaceError(f"objective {name!r} is not in the space; known: {self.objective_names}")

    # ------------------------------------------------------------------ checks
    def violations(self, X: np.ndarray) -> np.ndarray:
        """Largest constraint or bound violation of each row of `X` (shape `n x d` -> `n`), 0 if feasible."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        lows, highs = self.bounds
        worst = np.maximum(np.max(lows - X, axis=1), np.max(X - highs, axis=1)).clip(min=0.0)
        index = {n: i for i, n in enumerate(self.names)}
        for c in self.constraints:
            s = X[:, [index[n] for n in c.names]] @ np.array(c.coefficients)
            scale = max(1.0, abs(c.bound))
            if c.equals is not None:
                v = np.abs(s - c.equals) / scale
            elif c.at_most is not None:
                v = (s - c.at_most).clip(min=0) / scale
            else:
                v = (c.at_least - s).clip(min=0) / scale
            worst = np.maximum(worst, v)
        for j, p in enumerate(self.parameters):
            if p.is_discrete:
                levels = np.array(p.values)
                off = np.min(np.abs(X[:, j : j + 1] - levels[None, :]), axis=1)
                worst = np.maximum(worst, off)
        return worst

    def is_feasible(self, X: np.ndarray, rtol: float = SUM_RTOL) -> np.ndarray:
        """Boolean mask of rows inside the bounds, on a discrete level, and satisfying every constraint."""
        return self.violations(X) <= rtol

    def validate_frame(self, frame: pd.DataFrame, *, what: str = "table") -> pd.DataFrame:
        """Check that `frame` has every parameter column, numeric and finite; return those columns as float."""
        import pandas as pd

        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise SearchSpaceError(f"{what}: missing parameter column(s) {missing}")
        out = pd.DataFrame(index=frame.index)
        for n in self.names:
            col = pd.to_numeric(frame[n], errors="coerce")
            bad = col.isna() & frame[n].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise SearchSpaceError(
                    f"{what}: column {n!r} row {row} is not a number ({frame[n].iloc[row]!r})"
                )
            if col.isna().any():
                row = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise SearchSpaceError(f"{what}: column {n!r} row {row} is empty or NaN")
            if not np.isfinite(col.to_numpy()).all():
                raise SearchSpaceError(f"{what}: column {n!r} holds an infinite value")
            out[n] = col.astype(float)
        return out

    def polish(self, X: np.ndarray, rounds: int = 5) -> np.ndarray:
        """Clip to the bounds and project onto the equality constraints (round-off of optimizers and of CSV files).

        Each row moves only its coordinates off their bounds, by the least-squares step onto the equalities
        (vectorized over rows: a pool of 1e5 rows polishes in well under a second)."""
        lows, highs = self.bounds
        X = np.clip(np.asarray(X, dtype=float), lows, highs)
        equalities = [c for c in self.constraints if c.equals is not None]
        if not equalities:
            return X
        index = {n: i for i, n in enumerate(self.names)}
        A = np.zeros((len(equalities), self.dim))
        b = np.array([c.bound for c in equalities])
        for r, c in enumerate(equalities):
            A[r, [index[n] for n in c.names]] = c.coefficients
        discrete = np.array([p.is_discrete for p in self.parameters])
        for _ in range(rounds):
            resid = X @ A.T - b
            if np.all(np.abs(resid) <= 0.1 * SUM_RTOL * np.maximum(1.0, np.abs(b))):
                break
            free = (X > lows) & (X < highs) & ~discrete  # move only coordinates off their bounds
            rows = np.flatnonzero(np.abs(resid).max(axis=1) > 0)
            Af = A[None, :, :] * free[rows, None, :]  # rows x k x d: each row's equalities on its free coordinates
            G = Af @ Af.transpose(0, 2, 1)
            ok = np.linalg.matrix_rank(G) == len(b)
            rows, Af, G = rows[ok], Af[ok], G[ok]
            if len(rows):
                step = np.linalg.solve(G, resid[rows][:, :, None])
                X[rows] -= (Af.transpose(0, 2, 1) @ step)[:, :, 0]
            X = np.clip(X, lows, highs)
        return X

    def describe_violation(self, x: np.ndarray) -> str:
        """What is wrong with one row `x` (`d`), in the words of `check_recipe`; "" when it is feasible."""
        try:
            self.check_recipe(dict(zip(self.names, np.asarray(x, dtype=float).tolist())))
        except SearchSpaceError as exc:
            return str(exc).removeprefix("recipe: ")
        return ""

    def check_recipe(self, recipe: dict[str, float]) -> None:
        """Raise `SearchSpaceError` naming the first field outside its range or the violated constraint."""
        for p in self.parameters:
            if p.name not in recipe:
                raise SearchSpaceError(f"recipe: missing {p.name!r}")
            v = float(recipe[p.name])
            if not np.isfinite(v) or v < p.low - 1e-9 or v > p.high + 1e-9:
                raise SearchSpaceError(
                    f"recipe: {p.name}={v:g} is outside the allowed range [{p.low:g}, {p.high:g}] {p.unit}".rstrip()
                )
        x = np.array([[float(recipe[n]) for n in self.names]])
        if not self.is_feasible(x)[0]:
            for c in self.constraints:
                s = sum(w * float(recipe[n]) for w, n in zip(c.coefficients, c.names))
                sub = SearchSpace(parameters=self.parameters, constraints=(c,))
                if not sub.is_feasible(x)[0]:
                    raise SearchSpaceError(
                        f"recipe: sum{list(c.names)} = {s:.6g} violates the constraint (bound {c.bound:g})"
                    )
            raise SearchSpaceError("recipe: a value is not one of its parameter's discrete levels")
