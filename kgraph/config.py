"""Settings with defaults, overridable by an optional `kgraph.yaml` at the vault root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kgraph.problems import Problem, problem
from kgraph.vault.yamlsize import MAX_VALUES, too_big

CONFIG_NAME = "kgraph.yaml"

# Always skipped, whatever the user config says (PARSING.md P1 34).
DEFAULT_IGNORE: tuple[str, ...] = (
    ".*",
    "**/.*",
    "**/*.sync-conflict-*",
    "**/*~",
    "**/node_modules/**",
)


@dataclass(frozen=True)
class Config:
    vault: Path
    out: Path
    ignore: tuple[str, ...] = ()
    templates: Path | None = None  # a folder whose templates override the shipped ones
    title: str = "kgraph"
    base_url: str = "/"
    lang: str = "en"
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    execute: bool = True
    cell_timeout: float = 120.0
    cell_memory_mb: int = 2048
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cache_dir(self) -> Path:
        """`.kgraph-cache/` beside the output folder (DESIGN §6), or `$KGRAPH_CACHE_DIR`."""
        env = os.environ.get("KGRAPH_CACHE_DIR")
        return Path(env).resolve() if env else self.out.parent / ".kgraph-cache"


def load_config(
    vault: Path, out: Path | None = None, **overrides: Any
) -> tuple[Config, list[Problem]]:
    """Read `kgraph.yaml` (if any) and apply command-line overrides on top."""
    vault = vault.resolve()
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    path = vault / CONFIG_NAME
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            problems.append(problem(CONFIG_NAME, line, "config-error", f"cannot read: {reason}"))
            loaded = None
        if loaded is not None and too_big(loaded):
            message = f"cannot read: its aliases expand to over {MAX_VALUES:,} values"
            problems.append(problem(CONFIG_NAME, 1, "config-error", message))
            loaded = None
        if isinstance(loaded, dict):
            data = loaded
        elif loaded is not None:
            problems.append(problem(CONFIG_NAME, 1, "config-error", "must be a mapping"))
    ignore = data.get("ignore") or []
    if isinstance(ignore, str):
        ignore = [ignore]
    templates = data.get("templates")
    kwargs: dict[str, Any] = {
        "vault": vault,
        "out": (out or Path("site")).resolve(),
        "ignore": tuple(str(p) for p in ignore),
        "templates": (vault / str(templates)).resolve() if templates else None,
        "title": str(data.get("title", "kgraph")),
        "base_url": str(data.get("base_url", "/")),
        "lang": str(data.get("lang", "en")),
        "extra": {k: v for k, v in data.items() if k not in {"ignore", "templates", "title"}},
    }
    for key, value in overrides.items():
        if value is not None:
            kwargs[key] = value
    return Config(**kwargs), problems
