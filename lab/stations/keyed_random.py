"""Random streams keyed by (seed, stream, film), so a simulated reading does not depend on the order stations run in."""

from __future__ import annotations

import numpy as np

from lab.records import FilmKey


def film_rng(seed: int, stream: int, key: FilmKey) -> np.random.Generator:
    """The generator of one source of randomness for one film (independent of everything else)."""
    return np.random.default_rng([seed, stream, key.run, key.wafer, key.sample, ord(key.droplet)])
