"""A 4-component blend written only as files: past measurements (CSV) and a scenario file (YAML), for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

COMPONENTS = ("pedot", "dmso", "eg", "zonyl")


def blend_law(X: np.ndarray) -> dict[str, np.ndarray]:
    """The made-up physics of the blend: smooth in the fractions, a conductivity optimum inside the simplex."""
    p, d, e, z = X.T
    ln_rs = 7.0 - 3.0 * d - 2.0 * e + 6.0 * (d - 0.25) ** 2 + 4.0 * z
    thickness = 120.0 + 160.0 * p - 60.0 * z
    return {"absorbance_525": 0.1 + 0.8 * p, "sheet_resistance": np.exp(ln_rs), "thickness": thickness}


def write_past_measurements(path: Path, recipes: int = 40, replicates: int = 3, seed: int = 0) -> Path:
    """`recipes` random blends (fractions summing to 1), `replicates` samples each, thickness on half of them."""
    rng = np.random.default_rng(seed)
    X = rng.dirichlet(np.ones(len(COMPONENTS)), size=recipes)
    X[:, 3] *= 0.3
    X /= X.sum(axis=1, keepdims=True)
    rows = []
    for x in X:
        law = blend_law(x[None, :])
        for r in range(replicates):
            row = dict(zip(COMPONENTS, x))
            row["absorbance_525"] = float(law["absorbance_525"][0] + rng.normal(0, 0.01))
            row["sheet_resistance"] = float(law["sheet_resistance"][0] * np.exp(rng.normal(0, 0.05)))
            row["thickness"] = float(law["thickness"][0] * np.exp(rng.normal(0, 0.04))) if r % 2 == 0 else np.nan
            rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def blend_scenario(data_file: str = "past.csv") -> dict:
    """The scenario file's content (a mapping; `write_scenario` dumps it)."""
    return {
        "name": "pedot-additives",
        "description": "PEDOT:PSS with DMSO, EG and Zonyl: conductivity vs cost",
        "parameters": [{"name": "pedot", "low": 0.3, "high": 0.9}, {"name": "dmso", "low": 0, "high": 0.5},
                       {"name": "eg", "low": 0, "high": 0.5}, {"name": "zonyl", "low": 0, "high": 0.2}],
        "constraints": [{"sum": list(COMPONENTS), "equals": 1}],
        "recipe": {"components": list(COMPONENTS), "mix_volume_ul": 100, "min_volume_ul": 0.05,
                   "samples_per_recipe": 4, "samples_per_substrate": 24},
        "route": [{"station": "optical", "measures": ["absorbance_525"]},
                  {"station": "conductivity", "measures": ["sheet_resistance"]},
                  {"station": "thickness", "measures": ["thickness"], "share": 0.5}],
        "derived": {"conductivity": "1e7 / (sheet_resistance * thickness)"},
        "objectives": [{"name": "conductivity", "goal": "maximize", "scale": "log"},
                       {"name": "cost", "goal": "minimize",
                        "prices": {"pedot": 2.0, "dmso": 0.5, "eg": 0.3, "zonyl": 4.0}}],
        "units": {"sheet_resistance": "Ohm/sq", "thickness": "nm", "conductivity": "S/cm", "cost": "USD"},
        "world": {"emulate": data_file},
    }


def write_scenario(directory: Path, **changes) -> Path:
    """Write `past.csv` and `scenario.yaml` (with top-level `changes`) into `directory`; return the YAML's path."""
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "past.csv").exists():
        write_past_measurements(directory / "past.csv")
    content = blend_scenario() | changes
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path
