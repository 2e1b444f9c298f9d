"""`kgraph check`: every problem a build would warn about, without writing a site."""

from __future__ import annotations

from pathlib import Path

from kgraph.api import default_cache_dir
from kgraph.config import load_config
from kgraph.graph.build import build_graph
from kgraph.problems import Problem
from kgraph.vault.load import load_vault


def check_vault(vault: Path, *, cache_dir: Path | None = None) -> list[Problem]:
    """Read and link the vault; return its problems sorted by file and line."""
    config, problems = load_config(vault)
    data = load_vault(
        config.vault, ignore=config.ignore, cache_dir=cache_dir or default_cache_dir()
    )
    cg = build_graph(data.notes, data.files)
    return sorted({*problems, *data.problems, *cg.problems}, key=_order)


def _order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line, p.code, p.message)
