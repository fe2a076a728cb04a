"""Shared fixtures: the real P3HT/CNT data beside the repo, and torch kept to the test machine's cores."""

from __future__ import annotations

import pytest
import torch

from lab.paths import shared_data_dir

torch.set_num_threads(1)  # small GP problems: one thread is faster on 2 shared cores, and deterministic


@pytest.fixture(scope="session")
def p3ht_data_path():
    """Path of the 233 real films (skips the test when the shared data are not beside the repo)."""
    path = shared_data_dir() / "p3ht_cnt" / "raw_data.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path
