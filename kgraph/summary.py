"""The one-screen summary printed at the end of `kgraph build`."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from kgraph.problems import problem_line

if TYPE_CHECKING:
    from kgraph.build import BuildResult


def print_summary(
    result: BuildResult, report: dict[str, Any], *, vault_arg: str, quiet: bool
) -> None:
    """Problems as `file:line: code message` on stderr, then counts and stage times."""
    problems = sorted(set(result.problems), key=lambda p: (p.file, p.line, p.code, p.message))
    lines = []
    for p in problems:
        if p.severity == "info" and quiet:
            continue
        lines.append(problem_line(p, vault_arg) + "\n")
    # Plain lines, written at once: a vault with a thousand problems prints in a blink.
    sys.stderr.write("".join(lines))
    sys.stderr.flush()
    if quiet:
        return
    # Only now: rich takes 70 ms to import, which a quiet build (scripts, watchers) skips.
    from rich.console import Console
    from rich.table import Table

    out = Console(file=sys.stdout, highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("notes", str(report["notes"]))
    table.add_row("concepts", f"{report['concepts']} ({report['stubs']} wanted)")
    table.add_row("edges", ", ".join(f"{k} {v}" for k, v in report["edges"].items()) or "0")
    cells = report["cells"]
    table.add_row(
        "cells", f"{cells['executed']} executed, {cells['cached']} cached, {cells['failed']} failed"
    )
    table.add_row("figures", str(len(report["figures"])))
    pages = report["pages"]
    table.add_row(
        "pages",
        f"{pages['written']} written, {pages['unchanged']} unchanged, {pages['removed']} removed",
    )
    by_code = Counter(p.code for p in problems)
    table.add_row(
        "problems", ", ".join(f"{code} {n}" for code, n in sorted(by_code.items())) or "none"
    )
    timings = report["timings"]
    table.add_row("time", "  ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    table.add_row("output", str(result.config.out))
    out.print(table)
