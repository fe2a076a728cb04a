"""The electrode scenario: NMC cathode recipes made on a coating + calendering line and tested on a cycler.

Modules: `scenario` (the `Scenario`), `line` (the simulated line and cycler), `report` (its report sections), and
its world: `microstructure` (recipe -> porosity, thickness, tortuosity, conductivity, loading), `space` (the recipe
space, manufacturability, space-filling draws), `p2d` (DFN half-cell simulation, energy and power density),
`sweep` (parallel sweeps on Dask written as a data set), `surrogate` (graph-GP surrogate of P2D), `world` (the
campaigns' world: exact microstructure + surrogate), `front` (its best-known Pareto front), `world_cache`
(the shipped surrogate hyperparameters and front). PyBaMM is imported only when a simulation runs
(optional extra `[p2d]`).
"""
