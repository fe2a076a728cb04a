"""The electrode world's shipped cache: fitted surrogate hyperparameters and the best-known front.

Fitting the surrogate's GPs (marginal-likelihood optimization) and searching the best-known front take
~10-20 s on a busy 2-core machine; every electrode campaign needs both. `datasets/electrode_p2d/world_cache.json`
holds them, each section with its provenance (a fingerprint of the data set and every setting that shapes the
result). A section is used only if its provenance matches the world asking for it; otherwise the world
recomputes it (same result, slower). Regenerate with `lab p2d cache-world` after changing the data set, the
surrogate or the front search.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import torch

from lab.errors import ConfigError
from lab.paths import datasets_dir
from lab.scenarios.electrode.space import RECIPE_COLUMNS
from lab.scenarios.electrode.surrogate import OBJECTIVE_SCALES

#: Version of the file layout (bump when it changes).
CACHE_VERSION = 1

#: Hyperparameters of every GP node, keyed by (node, parents).
Hyperparameters = dict[tuple[str, tuple[str, ...]], dict[str, torch.Tensor]]


def default_cache_path() -> Path:
    """The shipped cache file."""
    return datasets_dir() / "electrode_p2d" / "world_cache.json"


def data_fingerprint(data: pd.DataFrame) -> str:
    """SHA-256 of the columns the surrogate and the front read (recipe, objectives, status), as CSV text."""
    columns = [c for c in (*RECIPE_COLUMNS, *OBJECTIVE_SCALES, "status") if c in data.columns]
    text = data[columns].to_csv(index=False, float_format="%.9g")
    return hashlib.sha256(text.encode()).hexdigest()


def encode_hyperparameters(hyperparameters: Hyperparameters) -> list[dict[str, Any]]:
    """JSON-ready form: one entry per node, tensors as nested lists (float64)."""
    return [
        {"node": node, "parents": list(parents),
         "state": {k: v.detach().to(torch.double).tolist() for k, v in state.items()}}
        for (node, parents), state in hyperparameters.items()
    ]


def decode_hyperparameters(entries: list[Mapping[str, Any]]) -> Hyperparameters:
    """Inverse of `encode_hyperparameters`."""
    return {
        (e["node"], tuple(e["parents"])): {k: torch.tensor(v, dtype=torch.double) for k, v in e["state"].items()}
        for e in entries
    }


def read_section(path: Path | None, section: str, provenance: Mapping[str, Any]) -> dict | None:
    """The cache's `section` if the file exists and the section's provenance equals `provenance`, else None."""
    if path is None or not Path(path).exists():
        return None
    try:
        content = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"electrode world cache {path}: unreadable ({exc}); delete it or run `lab p2d cache-world`") from None
    entry = content.get(section) if content.get("version") == CACHE_VERSION else None
    if not isinstance(entry, dict) or entry.get("provenance") != json.loads(json.dumps(provenance)):
        return None
    return entry


def write_cache(path: Path, sections: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write the cache file with `sections` (each a mapping holding its `provenance`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": CACHE_VERSION, **sections}, indent=1))
    return path
