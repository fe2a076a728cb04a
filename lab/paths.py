"""Where the project's data live: the shipped `datasets/` folder and the shared real data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding `lab/`, `datasets/`, `pyproject.toml`).
REPO_ROOT = Path(__file__).resolve().parents[1]


def datasets_dir() -> Path:
    """The project's `datasets/` folder (cards, generated data, fitted parameters)."""
    return REPO_ROOT / "datasets"


def shared_data_dir(override: str | Path | None = None) -> Path:
    """The folder of real data sets: `override`, else `$LAB_DATA_DIR`, else `../shared/datasets` beside the repo."""
    if override is not None:
        return Path(override)
    env = os.environ.get("LAB_DATA_DIR")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "datasets"
