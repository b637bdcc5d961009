"""Graphs to files: GraphML, node-link JSON and PNG drawings of a profile."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import networkx as nx

from identity_graph.errors import ConfigError

TYPE_COLOURS = {
    "user_id": "#d62728",
    "email": "#1f77b4",
    "phone": "#2ca02c",
    "anonymous_id": "#7f7f7f",
    "device_id": "#9467bd",
    "crm_id": "#ff7f0e",
    "loyalty_id": "#8c564b",
}


def graphml_text(graph: nx.Graph) -> str:
    buf = io.BytesIO()
    nx.write_graphml(graph, buf)
    return buf.getvalue().decode("utf-8")


def graph_json(graph: nx.Graph) -> dict[str, Any]:
    data: dict[str, Any] = nx.node_link_data(graph, edges="links")
    return data


def draw_png(graph: nx.Graph, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ConfigError("drawing needs matplotlib: pip install 'identity-graph[viz]'") from e
    fig, ax = plt.subplots(figsize=(8, 6))
    pos = nx.spring_layout(graph, seed=1, weight="weight")
    colours = [TYPE_COLOURS.get(d.get("type", ""), "#17becf") for _, d in graph.nodes(data=True)]
    widths = [0.5 + 3 * d.get("weight", 0.5) for _, _, d in graph.edges(data=True)]
    nx.draw_networkx(
        graph, pos, ax=ax, node_color=colours, width=widths, font_size=7, node_size=350
    )
    ax.set_title(f"profile {graph.graph.get('profile_id', '')}")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
