"""Enumerate the candidate DAGs from the recipe (`inputs`) through measured intermediates to the target.

The family (stated exactly, so counts can be checked):

    Pick an ordered sequence m_1, ..., m_k of distinct intermediates, 0 <= k <= min(n, K - 1), where n is the
    number of intermediates and K the maximum path length (edges from `inputs` to the target). Then
      parents(m_1) = {inputs}
      parents(m_i) = {m_(i-1)} + any subset of {inputs, m_1, ..., m_(i-2)}          (i >= 2)
      parents(y)   = {m_k}     + any subset of {inputs, m_1, ..., m_(k-1)}          (k >= 1)
      parents(y)   = {inputs}                                                       (k = 0)

Every graph therefore contains the chain inputs -> m_1 -> ... -> m_k -> y: each selected intermediate lies on a
path from the recipe to the target, the longest path has k + 1 edges, and the chain fixes the topological
order, so no graph is listed twice. Extra edges let later nodes also see the recipe or earlier measurements
(e.g. ln sigma from ln Rs and ln t). Node m_i has 2^(i-1) parent choices and y has 2^k, so

    count(n, K) = sum_{k=0}^{min(n, K-1)} n! / (n-k)! * 2^(k(k+1)/2)

e.g. n = 4: K = 1 -> 1, K = 2 -> 9, K = 3 -> 105, K = 4 -> 1641.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import networkx as nx

from models.errors import ModelInputError

#: Name of the node holding every recipe column.
INPUTS = "inputs"

#: A graph: each non-input node -> its parents (sorted: `inputs` first, then intermediates in chain order).
ParentMap = dict[str, tuple[str, ...]]


def count_graphs(n_intermediates: int, max_path_length: int) -> int:
    """The number of graphs `enumerate_graphs` yields (the closed form in the module docstring)."""
    if n_intermediates < 0 or max_path_length < 1:
        raise ModelInputError("n_intermediates must be >= 0 and max_path_length >= 1")
    top = min(n_intermediates, max_path_length - 1)
    return sum(math.perm(n_intermediates, k) * 2 ** (k * (k + 1) // 2) for k in range(top + 1))


def enumerate_graphs(intermediates: Sequence[str], target: str, max_path_length: int = 3) -> list[ParentMap]:
    """List every graph of the family, fewest intermediates first.

    Args:
        intermediates: Names of the measured intermediate variables.
        target: Name of the target variable.
        max_path_length: K, the longest allowed path from `inputs` to the target, in edges (>= 1).

    Returns:
        `count_graphs(len(intermediates), max_path_length)` parent maps; the first is inputs -> target.
    """
    names = list(intermediates)
    if max_path_length < 1:
        raise ModelInputError(f"max_path_length must be >= 1, got {max_path_length}")
    if len(set(names)) != len(names) or target in names or INPUTS in names or target == INPUTS:
        raise ModelInputError(f"intermediates must be distinct and differ from the target and {INPUTS!r}")
    graphs: list[ParentMap] = []
    for k in range(min(len(names), max_path_length - 1) + 1):
        for chain in itertools.permutations(names, k):
            graphs.extend(_graphs_on_chain(chain, target))
    return graphs


def _graphs_on_chain(chain: tuple[str, ...], target: str) -> list[ParentMap]:
    """Every graph whose backbone is inputs -> chain -> target."""
    if not chain:
        return [{target: (INPUTS,)}]
    order = (INPUTS, *chain, target)
    choices: list[list[tuple[str, ...]]] = []
    for position in range(1, len(order)):
        required = order[position - 1]
        optional = order[: position - 1]
        options = []
        for size in range(len(optional) + 1):
            for extra in itertools.combinations(optional, size):
                parents = set(extra) | {required}
                options.append(tuple(name for name in order if name in parents))
        choices.append(options)
    return [dict(zip(order[1:], combination)) for combination in itertools.product(*choices)]


def graph_to_networkx(parents: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    """The graph as a networkx DiGraph with an edge parent -> child for every listed parent."""
    graph = nx.DiGraph()
    graph.add_node(INPUTS)
    for child, child_parents in parents.items():
        graph.add_node(child)
        graph.add_edges_from((parent, child) for parent in child_parents)
    if not nx.is_directed_acyclic_graph(graph):
        raise ModelInputError(f"the graph has a cycle: {dict(parents)}")
    return graph


def longest_path_length(parents: Mapping[str, Sequence[str]]) -> int:
    """Edges on the longest directed path of the graph."""
    return int(nx.dag_longest_path_length(graph_to_networkx(parents)))


def describe_graph(parents: Mapping[str, Sequence[str]]) -> str:
    """A one-line text form, e.g. `absorption_ratio <- inputs; y <- inputs, absorption_ratio`."""
    order = [node for node in nx.topological_sort(graph_to_networkx(parents)) if node != INPUTS]
    return "; ".join(f"{node} <- {', '.join(parents[node])}" for node in order)
