"""Shared data of the graph-model tests: replicated films whose ln sigma follows the exact physics law."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd
import pytest

#: The intercept of the test law Y = ln(1e7) - S - T (a conductivity-like law).
LN_INTERCEPT = math.log(1e7)


def _films(with_ratio: bool) -> pd.DataFrame:
    """40 recipes x 3 films: ln Rs (S), ln t (T, on ~30 % of films), Y by the law; optionally R and a nonlinear Z(R)."""
    rng = np.random.default_rng(0)
    recipes = rng.uniform(size=(40, 2))
    groups = np.repeat(np.arange(40), 3)
    x = recipes[groups]
    s = 4.0 - 2.0 * x[:, 0] + 0.1 * rng.standard_normal(120)
    t = 6.5 + 0.8 * x[:, 1] + 0.2 * rng.standard_normal(120)
    frame = pd.DataFrame({"c1": x[:, 0], "c2": x[:, 1], "S": s, "T": t, "recipe": groups})
    if with_ratio:
        r = np.sin(3.0 * x[:, 0]) + 0.15 * rng.standard_normal(120)
        frame.insert(4, "R", r)
    frame["Y"] = LN_INTERCEPT - s - t
    if with_ratio:
        frame["Z"] = np.exp(r) + x[:, 1] + 0.05 * rng.standard_normal(120)
    frame.loc[rng.uniform(size=120) > 0.3, "T"] = np.nan
    return frame


@pytest.fixture(scope="session")
def make_films() -> Callable[[bool], pd.DataFrame]:
    """Build the films table (`with_ratio` adds the intermediate R and a target Z nonlinear in it)."""
    return _films
