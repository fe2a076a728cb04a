"""Dependencies flow one way: between packages, between the layers of `lab`, and with no import cycle anywhere.

Packages: models, optimizers and drivers never import lab; drivers never import torch. Inside `lab`, a module
may import its own layer or lower ones (`LAB_LAYERS`, bottom first), counting every import in a file (inside
functions and `if TYPE_CHECKING:` blocks too); generic code never imports a scenario package but through the
registry. The cycle check builds the import graph of every module of the four packages from the same imports
(module-level, function-level and type-only ones, resolved to module names): a cycle, even through a function
or an annotation, means two modules that cannot be understood, or moved, one without the other.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lab", "models", "optimizers", "drivers")
FORBIDDEN = {
    "models": {"lab", "drivers"},
    "optimizers": {"lab", "drivers"},
    "drivers": {"lab", "models", "optimizers", "torch", "botorch", "gpytorch"},
}

#: The layers of `lab`, bottom first: a module may import its own layer and the ones below.
LAB_LAYERS: tuple[tuple[str, ...], ...] = (
    ("lab", "lab.errors", "lab.paths", "lab.files", "lab.yaml_files"),
    ("lab.records", "lab.scoring", "lab.seeds"),
    ("lab.worlds", "lab.stations"),  # may use drivers, models, optimizers
    ("lab.store",),
    ("lab.scenarios",),
    ("lab.campaign", "lab.bench"),
    ("lab.reports",),
    ("lab.dashboard",),  # the read-only live page: reads the store, serves it (Starlette)
    ("lab.cli",),
)
#: Lower layers a layer must not import all the same.
LAB_FORBIDDEN = {"lab.store": {"lab.worlds", "lab.stations"}}
#: Modules of higher layers a layer may import: scenarios render their report sections with the HTML helpers.
LAB_ALLOWED_UP = {"lab.scenarios": {"lab.reports.html"}}
#: The only generic module that reaches the scenario packages (dynamically, by pkgutil).
REGISTRY = "lab.scenarios"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=1)
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _resolve(name: str) -> str:
    """The module of ours `name` lives in (`a.b.C` -> `a.b`), or `name` itself if it is not ours."""
    known, probe = _modules(), name
    while probe and probe not in known:
        probe = probe.rpartition(".")[0]
    return probe or name


@lru_cache(maxsize=None)
def _module_imports(module: str) -> tuple[str, ...]:
    """Every import of `module`, at any depth, resolved to modules (relative ones and `from x import submodule`)."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(_resolve(a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.update(_resolve(f"{source}.{a.name}") for a in node.names)
    return tuple(sorted(found - {module}))


def _top_level_names(path: Path) -> set[str]:
    return {target.split(".")[0] for target in _module_imports(_module_name(path))}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_backward_imports(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_top_level_names(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if _top_level_names(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def _layer_of(module: str) -> str | None:
    """The layer name (`lab.store`, ...) of a lab module, None for modules outside lab."""
    if module != "lab" and not module.startswith("lab."):
        return None
    return ".".join(module.split(".")[:2])


def _rank(layer: str) -> int:
    for rank, layers in enumerate(LAB_LAYERS):
        if layer in layers:
            return rank
    raise AssertionError(f"{layer} is in no layer of LAB_LAYERS: add it")


def _scenario_package(module: str) -> str | None:
    """`lab.scenarios.<package>` if `module` is (in) a scenario package, else None."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["lab", "scenarios"] and (ROOT / "lab" / "scenarios" / parts[2]).is_dir():
        return ".".join(parts[:3])
    return None


def _lab_modules() -> list[str]:
    return sorted(m for m in _modules() if _layer_of(m) is not None)


def test_every_lab_module_is_in_a_layer() -> None:
    assert {_layer_of(m) for m in _lab_modules()} <= {layer for layers in LAB_LAYERS for layer in layers}


def test_lab_layers_import_only_their_own_or_lower_layers() -> None:
    offenders = []
    for module in _lab_modules():
        layer = _layer_of(module)
        for imported in _module_imports(module):
            target = _layer_of(imported)
            if target is None or target == layer:
                continue
            upward = _rank(target) > _rank(layer) and imported not in LAB_ALLOWED_UP.get(layer, set())
            if upward or target in LAB_FORBIDDEN.get(layer, set()):
                offenders.append(f"{module} -> {imported}")
    assert offenders == []


def test_scenario_packages_are_reached_only_through_the_registry() -> None:
    """Generic code names no scenario package, and no scenario package imports another."""
    offenders = []
    for module in _lab_modules():
        own = _scenario_package(module)
        for imported in _module_imports(module):
            target = _scenario_package(imported)
            if target is not None and target != own and module != REGISTRY:
                offenders.append(f"{module} -> {imported}")
    assert offenders == []


def import_graph() -> nx.DiGraph:
    """Modules of lab, models, optimizers and drivers, with an edge for each import of one of ours."""
    graph = nx.DiGraph()
    for module in _modules():
        graph.add_node(module)
        graph.add_edges_from((module, target) for target in _module_imports(module) if target in _modules())
    return graph


def test_no_import_cycles_anywhere() -> None:
    cycles = [" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph())]
    assert cycles == []
