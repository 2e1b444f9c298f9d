"""What rendering the site produces, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kgraph.problems import Problem


@dataclass(frozen=True)
class SiteOutput:
    """Rendered files, files to copy, problems, and per page the concept keys it shows."""

    files: dict[str, bytes]
    copies: dict[str, Path]
    problems: tuple[Problem, ...]
    dependencies: dict[str, frozenset[str]] = field(default_factory=dict)
    # Problems found while rendering each page, so a build that skips a page can still report them.
    page_problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
