"""What the graph's samplers need of a fitted GP graph, as a Protocol (satisfied by `models.gp_graph.GPGraph`).

`GPGraph` builds its samplers (`models.graph_paths`, `models.graph_posterior_model`) on demand, so they type
their graph with this Protocol instead of importing `GPGraph` back: the shared type lives in the lower module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import networkx as nx


class FittedGraph(Protocol):
    """A fitted graph of node estimators: its structure, fitted order and the helpers its samplers use."""

    parents: Mapping[str, Sequence[str]]
    input_columns: Sequence[str]
    target: str
    #: networkx DiGraph whose nodes carry their fitted `estimator`
    graph_: nx.DiGraph
    #: non-input nodes in topological order
    order_: list[str]

    def _ancestry_code(self, node: str) -> int:
        """A stable code of the sub-graph feeding `node`."""
        ...

    def _check_fitted(self) -> None:
        """Raise `NotFittedError` unless fitted."""
        ...
