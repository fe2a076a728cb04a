"""Derived quantities as formulas of other quantities: parsed, checked and evaluated safely, never with `eval`.

A scenario file may say `conductivity: "1e7 / (sheet_resistance * thickness)"`. The text is parsed with
Python's `ast` and accepted only if it is arithmetic (`+ - * / **`, unary minus, numbers) over quantity names
and a short list of numeric functions; `asteval`'s interpreter (with a symbol table holding just those names and
functions) then evaluates it elementwise on arrays. Formulas may use each other; their order comes from the
standard library's `graphlib` (a topological sort, light enough for `lab scenario check` to start at once), and a
cycle or an unknown name is a `ConfigError` naming the quantity.
"""

from __future__ import annotations

import ast
import graphlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

from lab.errors import ConfigError

if TYPE_CHECKING:  # numpy only where a formula is evaluated: checking a scenario file stays light
    import numpy as np

#: The functions a formula may call (numpy's, of the same name), elementwise on arrays.
FUNCTIONS: tuple[str, ...] = ("log", "log10", "exp", "sqrt", "abs", "minimum", "maximum")


def numpy_functions() -> dict[str, Callable[..., np.ndarray]]:
    """The numpy function behind each name of `FUNCTIONS`."""
    import numpy as np

    return {name: getattr(np, name) for name in FUNCTIONS}

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_MAX_LENGTH = 500


@dataclass(frozen=True)
class Formula:
    """One derived quantity: its name, its text and the quantities it reads."""

    name: str
    text: str
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
        """The formula on `values` (arrays of one length, or scalars); NaN where an input is missing or invalid."""
        import numpy as np
        from asteval import Interpreter, make_symbol_table

        arrays = {n: np.asarray(values[n], dtype=float) for n in self.names}
        table = make_symbol_table(use_numpy=False, nested=False, **numpy_functions(), **arrays)
        interpreter = Interpreter(symtable=table, minimal=True, use_numpy=False)
        with np.errstate(all="ignore"):
            try:
                result = interpreter.eval(self.text, raise_errors=True, show_errors=False)
            except Exception as exc:  # asteval re-raises what the arithmetic raised
                raise ConfigError(f"derived.{self.name}: cannot evaluate {self.text!r} ({exc})") from None
        out = np.asarray(result, dtype=float)
        return np.where(np.isfinite(out), out, np.nan)


def parse_formula(name: str, text: str) -> Formula:
    """Check `text` is plain arithmetic over names and `FUNCTIONS`; `ConfigError` naming `derived.<name>` if not."""
    field = f"derived.{name}"
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{field}: a formula must be a non-empty string")
    if len(text) > _MAX_LENGTH:
        raise ConfigError(f"{field}: formula is {len(text)} characters long (at most {_MAX_LENGTH})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ConfigError(f"{field}: {text!r} is not a formula (syntax error)") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                allowed = ", ".join(FUNCTIONS)
                raise ConfigError(f"{field}: only the functions {allowed} may be called (in {text!r})")
        elif isinstance(node, ast.Name):
            if node.id not in FUNCTIONS:
                names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                raise ConfigError(f"{field}: only numbers may appear as constants (in {text!r})")
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_OPERATORS)):
            raise ConfigError(f"{field}: {type(node).__name__} is not allowed; use + - * / ** and functions")
    return Formula(name=name, text=text.strip(), names=frozenset(names))


def evaluation_order(formulas: Mapping[str, Formula], measured: set[str]) -> list[str]:
    """Derived quantities in an order that computes each after what it reads.

    Raises:
        ConfigError: a formula names a quantity neither measured nor derived, or formulas form a cycle.
    """
    graph: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, formula in formulas.items():
        if name in measured:
            raise ConfigError(f"derived.{name}: {name!r} is measured by the route; a quantity is measured or derived")
        graph.add(name)
        for used in sorted(formula.names):
            if used not in measured and used not in formulas:
                known = ", ".join(sorted(measured | set(formulas)))
                raise ConfigError(f"derived.{name}: unknown quantity {used!r} (known: {known})")
            if used in formulas:
                graph.add(name, used)
    try:
        return list(graph.static_order())
    except graphlib.CycleError as exc:
        loop = " -> ".join(exc.args[1])  # each quantity is used by the next; the first is repeated last
        raise ConfigError(f"derived: formulas form a cycle ({loop})") from None


def evaluate_all(formulas: Mapping[str, Formula], values: Mapping[str, np.ndarray], order: list[str]) -> dict[str, np.ndarray]:
    """Every derived quantity, in `order`, from the measured `values` (and derived ones as they are computed)."""
    known: dict[str, np.ndarray] = dict(values)
    out: dict[str, np.ndarray] = {}
    for name in order:
        out[name] = known[name] = formulas[name].evaluate(known)
    return out


def measured_roots(formulas: Mapping[str, Formula], quantity: str) -> set[str]:
    """The measured quantities a (derived) quantity is computed from, through any chain of formulas."""
    if quantity not in formulas:
        return {quantity}
    roots: set[str] = set()
    for used in formulas[quantity].names:
        roots |= measured_roots(formulas, used)
    return roots
