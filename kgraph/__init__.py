"""kgraph: a knowledge-graph and notes compiler for Markdown vaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kgraph.api import KnowledgeGraph

__all__ = ["KnowledgeGraph", "__version__", "load"]


def load(path: Any = "notes", **kwargs: Any) -> KnowledgeGraph:
    """Read a vault into a `KnowledgeGraph` (`kg.graph` is the networkx MultiDiGraph)."""
    from kgraph.api import load as _load

    return _load(path, **kwargs)
