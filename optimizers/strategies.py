"""The names of the batch strategies `optimizers.propose.propose` accepts (light: no torch, for CLI help texts)."""

from __future__ import annotations

#: Strategy names accepted by `propose`.
STRATEGIES = ("default", "reference", "random", "thompson")
