"""Draw a hypothesis graph as inline SVG: inputs on the left, intermediates in the middle, the target on the right.

SVG rather than a raster image: the labels stay sharp at any zoom, the file stays small, and a page of drawings
needs no script. Layers are the longest path from `inputs`; skip edges (e.g. inputs -> target past an
intermediate) bend so they do not run through the nodes they pass.
"""

from __future__ import annotations

import html

import networkx as nx

#: Node fill by role.
COLORS = {"input": "#c6dbef", "intermediate": "#c7e9c0", "target": "#fdd0a2"}
_NODE_W, _NODE_H, _LAYER_DX, _SLOT_DY = 118, 40, 190, 66


def layered_positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Layer (longest path from a root) and slot within the layer of every node: `node -> (layer, slot)`."""
    depth = {node: 0 for node in graph}
    for node in nx.topological_sort(graph):
        for child in graph.successors(node):
            depth[child] = max(depth[child], depth[node] + 1)
    positions, seen = {}, {}
    for node in nx.topological_sort(graph):
        layer = depth[node]
        slot = seen.get(layer, 0)
        seen[layer] = slot + 1
        positions[node] = (float(layer), float(slot))
    return positions


def graph_svg(graph: nx.DiGraph, inputs: str, target: str, title: str = "", key: str = "g") -> str:
    """An inline `<svg>` drawing of `graph` (edges parent -> child) with `inputs` and `target` coloured by role.

    `key` makes the arrow marker's id unique among the drawings of one page.
    """
    layers = layered_positions(graph)
    per_layer: dict[float, int] = {}
    for layer, _slot in layers.values():
        per_layer[layer] = per_layer.get(layer, 0) + 1
    tallest = max(per_layer.values())
    top = 30 if title else 8
    height = top + tallest * _SLOT_DY + 12
    width = int(max(layer for layer, _ in layers.values()) * _LAYER_DX + _NODE_W + 24)
    xy = {}
    for node, (layer, slot) in layers.items():
        offset = (tallest - per_layer[layer]) * _SLOT_DY / 2
        xy[node] = (12 + layer * _LAYER_DX + _NODE_W / 2, top + offset + slot * _SLOT_DY + _SLOT_DY / 2)
    parts = [
        f'<svg class="graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title or target)}">',
        f'<defs><marker id="arrow-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    if title:
        parts.append(f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="13" '
                     f'font-weight="600">{html.escape(title)}</text>')
    for parent, child in graph.edges:
        parts.append(_edge(xy[parent], xy[child], layers[child][0] - layers[parent][0], key))
    for node, (x, y) in xy.items():
        role = "input" if node == inputs else "target" if node == target else "intermediate"
        parts.append(
            f'<g class="node {role}"><title>{html.escape(node)} ({role})</title>'
            f'<rect x="{x - _NODE_W / 2:.1f}" y="{y - _NODE_H / 2:.1f}" width="{_NODE_W}" height="{_NODE_H}" rx="9" '
            f'fill="{COLORS[role]}" stroke="#666"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12">{html.escape(_short(node))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _edge(start: tuple[float, float], end: tuple[float, float], span: float, key: str) -> str:
    """A path from the right side of the parent box to the left side of the child's; long edges arc over."""
    x0, y0 = start[0] + _NODE_W / 2, start[1]
    x1, y1 = end[0] - _NODE_W / 2 - 2, end[1]
    if span > 1 and abs(y1 - y0) < 1:
        lift = 0.42 * _SLOT_DY * (span - 0.5)
        path = f"M{x0:.1f},{y0 - 8:.1f} C{x0 + 60:.1f},{y0 - lift:.1f} {x1 - 60:.1f},{y1 - lift:.1f} {x1:.1f},{y1 - 8:.1f}"
    else:
        mid = (x0 + x1) / 2
        path = f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
    return f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.6" marker-end="url(#arrow-{key})"/>'


def _short(name: str, width: int = 17) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
