"""Problem codes: each documented in the README's table, each problem printed on one line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.cli import main
from kgraph.problems import CODES, problem, problem_line

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


@given(st.text(max_size=20), st.integers(0, 99), st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_problem_is_one_line_whatever_its_file_and_message_hold(
    file: str, line: int, message: str
) -> None:
    found = problem(file, line, "unresolved-link", message)
    text = problem_line(found, "vault")
    assert "\n" not in text and "\r" not in text and "\x00" not in text
    assert f":{line}: unresolved-link " in text
    if file.isprintable() and message.isprintable():
        where = os.path.join("vault", file) if file else "vault"
        assert text == f"{where}:{line}: unresolved-link {message}"
    assert str(found) == problem_line(found)


def test_check_prints_a_file_named_with_a_newline_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "a\nb.md").write_text("# A\n\n[[Nowhere]]\n")
    assert main(["check", str(vault)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{vault}/a\\nb.md:3: unresolved-link no note for [[Nowhere]]"]
