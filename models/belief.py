"""One belief contract: what every fitted estimator of a quantity over recipes gives the code that uses it.

GP nodes, physics laws, graphs of GPs, replicate-mean GPs and the campaign's composed beliefs all answer the
same two questions on the quantity's modelled scale (e.g. ln for `scale: log`): the posterior mean at recipes
`X`, and `n` posterior samples there, reproducible from a seed. The optimizer (Thompson sampling, hypervolume
picks), the reports and the hypothesis test need nothing else; `tests/models/test_belief_contract.py` checks
every estimator against it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Belief(Protocol):
    """A fitted belief of one quantity over recipes, on its modelled scale."""

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean at `X` (`N x d`) -> `N`."""
        ...

    def sample(self, X: np.ndarray, n: int, seed: int) -> np.ndarray:
        """`n` posterior samples at `X` (`N x d`) -> `n x N`; the same seed gives the same values."""
        ...
