"""Fixture-driven rendering tests: one fixture file per syntax, rendered with PlainHooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it.utils import read_fixture_file

from kgraph.vault.hooks import PlainHooks
from kgraph.vault.markdown import render_body

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = [
    "wikilinks",
    "embeds",
    "callouts",
    "tags",
    "comments",
    "highlights",
    "math",
    "relations",
    "cells",
    "blockids",
    "tables",
    "html",
]
CASES = [
    pytest.param(text, expected, id=f"{name}-{line}-{title}")
    for name in NAMES
    for line, title, text, expected in read_fixture_file(FIXTURES / f"{name}.md")
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_fixture(text: str, expected: str) -> None:
    html = render_body(text, PlainHooks(), path="n.md", body_line=1).html
    # a block ending in a hidden paragraph has no final newline; compare without it
    assert html.rstrip("\n") == expected.rstrip("\n")
