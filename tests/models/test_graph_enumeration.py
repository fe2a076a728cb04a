"""The enumerated DAG family: exact counts (closed form vs enumeration vs brute force), no duplicates, bounds."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from models.errors import ModelInputError
from models.graph_enumeration import INPUTS, count_graphs, enumerate_graphs, graph_to_networkx, longest_path_length


def _edge_set(parents):
    return frozenset((p, c) for c, ps in parents.items() for p in ps)


@pytest.mark.parametrize("n, k", [(0, 1), (1, 1), (1, 2), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5)])
def test_count_formula_matches_enumeration(n, k):
    names = [f"m{i}" for i in range(n)]
    graphs = enumerate_graphs(names, "y", k)
    assert len(graphs) == count_graphs(n, k)
    assert len({_edge_set(g) for g in graphs}) == len(graphs)  # no DAG listed twice


def test_known_counts_for_four_intermediates():
    assert [count_graphs(4, k) for k in (1, 2, 3, 4, 5)] == [1, 9, 105, 1641, 26217]


def test_first_graph_is_inputs_only_and_all_are_dags_within_the_bound():
    graphs = enumerate_graphs(["a", "b", "c"], "y", 3)
    assert graphs[0] == {"y": (INPUTS,)}
    for g in graphs:
        dag = graph_to_networkx(g)
        assert nx.is_directed_acyclic_graph(dag)
        assert longest_path_length(g) <= 3
        assert [n for n in dag if dag.in_degree(n) == 0] == [INPUTS]
        assert [n for n in dag if dag.out_degree(n) == 0] == ["y"]


def test_family_equals_brute_force_definition():
    """Every DAG on inputs + subset + y containing a Hamiltonian chain inputs -> ... -> y, bounded length."""
    names, max_len = ["a", "b", "c"], 3
    expected = set()
    for size in range(0, max_len):
        for subset in itertools.combinations(names, size):
            nodes = [INPUTS, *subset, "y"]
            candidates = [(u, v) for u in nodes for v in nodes if u != v and v != INPUTS and u != "y"]
            for mask in range(1 << len(candidates)):
                edges = [e for i, e in enumerate(candidates) if mask >> i & 1]
                dag = nx.DiGraph(edges)
                dag.add_nodes_from(nodes)
                if not nx.is_directed_acyclic_graph(dag):
                    continue
                order = list(nx.topological_sort(dag))
                chain = all(dag.has_edge(u, v) for u, v in zip(order, order[1:]))
                if chain and order[0] == INPUTS and order[-1] == "y" and nx.dag_longest_path_length(dag) <= max_len:
                    expected.add(frozenset(edges))
    enumerated = {_edge_set(g) for g in enumerate_graphs(names, "y", max_len)}
    assert enumerated == expected


def test_bad_names_are_refused():
    with pytest.raises(ModelInputError, match="differ from the target"):
        enumerate_graphs(["a", "y"], "y", 2)
    with pytest.raises(ModelInputError, match="max_path_length"):
        enumerate_graphs(["a"], "y", 0)
