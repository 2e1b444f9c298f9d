"""The Python face of kgraph: `kgraph.load(path)` and the same queries as the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from kgraph.graph import query
from kgraph.graph.build import ConceptGraph, build_graph
from kgraph.problems import Problem
from kgraph.vault.load import VaultData, load_vault


@dataclass
class KnowledgeGraph:
    """A loaded vault: the concept graph plus the problems found reading it."""

    concept_graph: ConceptGraph
    vault: VaultData

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The networkx graph itself: nodes are concept keys, edge keys are relations."""
        return self.concept_graph.graph

    @property
    def problems(self) -> list[Problem]:
        return sorted({*self.vault.problems, *self.concept_graph.problems})

    def show(self, name: str) -> dict[str, Any]:
        return query.show(self.concept_graph, name)

    def neighbors(
        self, name: str, relation: str | None = None, direction: str = "both", depth: int = 1
    ) -> list[dict[str, Any]]:
        return query.neighbors(self.concept_graph, name, relation, direction, depth)

    def backlinks(self, name: str) -> list[dict[str, Any]]:
        return query.backlinks(self.concept_graph, name)

    def path(self, a: str, b: str) -> dict[str, Any]:
        return query.path(self.concept_graph, a, b)

    def tag(self, tag: str) -> list[dict[str, Any]]:
        return query.tag(self.concept_graph, tag)

    def orphans(self) -> list[dict[str, Any]]:
        return query.orphans(self.concept_graph)

    def unresolved(self) -> list[dict[str, Any]]:
        return query.unresolved(self.concept_graph)

    def hubs(self, top: int = 10) -> list[dict[str, Any]]:
        return query.hubs(self.concept_graph, top)

    def relations(self) -> dict[str, int]:
        return query.relations(self.concept_graph)

    def figures(self) -> list[dict[str, Any]]:
        return query.figures(self.concept_graph)


def default_cache_dir() -> Path:
    """`.kgraph-cache/` beside the default output folder, or `$KGRAPH_CACHE_DIR`."""
    env = os.environ.get("KGRAPH_CACHE_DIR")
    return Path(env) if env else Path(".kgraph-cache")


def load(
    path: str | os.PathLike[str] = "notes",
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
    jobs: int | None = None,
) -> KnowledgeGraph:
    """Read the vault at `path` into a KnowledgeGraph (parse cache on disk unless cache=False)."""
    from kgraph.config import load_config

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no vault folder at {root}")
    config, config_problems = load_config(root)
    where = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    data = load_vault(
        config.vault,
        ignore=config.ignore,
        cache_dir=where if cache else None,
        jobs=jobs,
    )
    data.problems[:0] = config_problems
    cg = build_graph(data.notes, data.files)
    if cache:
        # Figures computed by earlier builds become graph nodes; nothing is executed here.
        from kgraph.figures import attach_figures

        outcome = attach_figures(cg, vault=config.vault, cache_dir=where, execute=False)
        data.problems.extend(p for p in outcome.problems if p.code == "cache-corrupt")
    return KnowledgeGraph(cg, data)
