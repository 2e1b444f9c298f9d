"""Every problem code kgraph can report is documented in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

from kgraph.problems import CODES

README = Path(__file__).parent.parent.parent / "README.md"


def test_every_code_is_in_the_readme_table_with_its_severity() -> None:
    documented: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or not cells[1].startswith("`"):
            continue
        codes = re.findall(r"`([a-z][a-z-]*)`", cells[1])
        severities = [s.strip() for s in cells[2].split("/")]
        if not set(severities) <= {"error", "warning", "info"}:
            continue  # another table (queries, exports)
        for i, code in enumerate(codes):
            # "info / warning" pairs with the codes in order; one severity covers them all
            documented[code] = severities[min(i, len(severities) - 1)]
    assert documented, "the problem table was not found"
    missing = sorted(set(CODES) - set(documented))
    assert not missing, f"codes not in the README: {missing}"
    wrong = {c: (CODES[c], documented[c]) for c in CODES if documented[c] != CODES[c]}
    assert not wrong, f"severity differs from the README: {wrong}"
