"""Full-text search: run pagefind over the written site (offline, its own binary)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kgraph.problems import Problem, problem


def build_search_index(out_dir: Path) -> list[Problem]:
    """Index `out_dir` with pagefind into `out_dir/pagefind/`; failures become problems."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(out_dir), "--silent"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [problem("", 0, "search-index", f"pagefind did not run: {exc}")]
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [problem("", 0, "search-index", f"pagefind failed: {detail[0]}")]
    return []
