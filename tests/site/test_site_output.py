"""Determinism of rendering, incremental writing, and the pagefind search index."""

from __future__ import annotations

import json
from pathlib import Path

from sitehelpers import neuron_cells, render_vault

from kgraph.publish import publish
from kgraph.site.output import SiteOutput
from kgraph.site.search import build_search_index


def test_two_renders_are_identical(tmp_path: Path) -> None:
    cells = neuron_cells(tmp_path)
    first, _ = render_vault("basic", tmp_path, cells=cells)
    second, _ = render_vault("basic", tmp_path, cells=cells)
    assert first.files == second.files
    assert first.copies == second.copies
    assert first.problems == second.problems
    assert first.dependencies == second.dependencies


def test_write_skips_unchanged_and_removes_stale(tmp_path: Path) -> None:
    output, config = render_vault("basic", tmp_path)
    out = config.out
    stats = publish(out, output.files, output.copies)
    assert stats.written == len(output.files) + len(output.copies) and stats.removed == 0
    page = out / "neuron/index.html"
    before = page.stat().st_mtime_ns
    (out / "old-page").mkdir()
    (out / "old-page/index.html").write_text("stale")
    again = publish(out, output.files, output.copies)
    assert again.written == 0 and again.removed == 1
    assert again.unchanged == stats.written
    assert page.stat().st_mtime_ns == before
    assert not (out / "old-page").exists()


def test_pagefind_indexes_concept_pages(basic_site: tuple[Path, SiteOutput]) -> None:
    out = basic_site[0]
    assert build_search_index(out) == []
    bundle = out / "pagefind"
    assert (bundle / "pagefind.js").is_file() and (bundle / "pagefind-ui.js").is_file()
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    pages = sum(lang["page_count"] for lang in entry["languages"].values())
    # One per note's concept page (home and the hostile note included), none for index
    # pages or the one stub (search finds what is written).
    assert pages == 8
    assert "data-pagefind-body" not in (out / "missing-concept" / "index.html").read_text()


def test_user_template_overrides_one_template(tmp_path: Path) -> None:
    from dataclasses import replace

    from sitehelpers import VAULTS, load_notes

    from kgraph.graph.build import build_graph
    from kgraph.site.render import render_site
    from kgraph.site.templates import template_root

    assert (template_root() / "concept.html").is_file()
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "404.html").write_text('{% extends "base.html" %}{% block main %}GONE{% endblock %}')
    _, config = render_vault("basic", tmp_path)
    notes, files = load_notes(VAULTS / "basic")
    output = render_site(build_graph(notes, files), replace(config, templates=custom))
    assert "GONE" in output.files["404.html"].decode()
    assert "GONE" not in output.files["neuron/index.html"].decode()
