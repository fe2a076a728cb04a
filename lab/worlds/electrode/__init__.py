"""The Li-ion electrode world: recipe -> microstructure -> P2D (PyBaMM) performance, and Dask sweeps of it.

Modules: `microstructure` (recipe -> porosity, thickness, tortuosity, conductivity, loading), `space` (the recipe
space, manufacturability, space-filling draws), `p2d` (DFN half-cell simulation, energy and power density),
`sweep` (parallel sweeps on Dask written as a data set), `surrogate` (graph-GP surrogate of P2D), `world` (the
campaigns' world: exact microstructure + surrogate), `front` (its best-known Pareto front), `world_cache`
(the shipped surrogate hyperparameters and front). PyBaMM is imported only when a simulation runs
(optional extra `[p2d]`).
"""

from __future__ import annotations

from lab.worlds.electrode.microstructure import (
    Microstructure,
    MicrostructureConstants,
    build_microstructure,
    manufacturable,
)
from lab.worlds.electrode.space import RECIPE_COLUMNS, draw_recipes, feasible, load_space

__all__ = [
    "Microstructure",
    "MicrostructureConstants",
    "RECIPE_COLUMNS",
    "build_microstructure",
    "draw_recipes",
    "feasible",
    "load_space",
    "manufacturable",
]
