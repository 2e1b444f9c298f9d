"""Body syntax survives sanitising onto the page; `templates:` in kgraph.yaml overrides one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sitehelpers import VAULTS, load_notes
from sitehtml import Balance

from kgraph.config import load_config
from kgraph.graph.build import build_graph
from kgraph.site.render import render_site

VAULT = VAULTS / "features"


def _render(tmp: Path, **changes: Any) -> dict[str, str]:
    config, problems = load_config(VAULT, tmp / "site")
    assert problems == []
    notes, files = load_notes(VAULT)
    output = render_site(build_graph(notes, files), replace(config, **changes))
    return {k: v.decode() for k, v in output.files.items() if k.endswith(".html")}


def test_body_syntax_on_the_page(tmp_path: Path) -> None:
    page = _render(tmp_path)["features/index.html"]
    assert "<mark>highlighted</mark>" in page
    assert 'data-callout="warning"' in page and "<strong>bold</strong>" in page
    assert page.count('type="checkbox"') == 2 and "checked" in page
    assert "<table>" in page and "<td>1</td>" in page
    assert "<dl>" in page and "<dt>Term</dt>" in page and "<dd>Its definition.</dd>" in page
    assert '<section class="footnotes">' in page and "The footnote text." in page
    assert '<span class="k">def</span>' in page  # Pygments token classes
    assert "private remark" not in page
    assert Balance(page).errors == []


def test_templates_folder_from_kgraph_yaml(tmp_path: Path) -> None:
    pages = _render(tmp_path)
    assert "Nothing here, says the vault." in pages["404.html"]
    assert "<title>Feature vault</title>" in pages["404.html"]  # the shipped base still applies
    assert "custom-404" not in pages["features/index.html"]
    plain = _render(tmp_path, templates=None)
    assert "Nothing here" not in plain["404.html"] and "<h1>Not found</h1>" in plain["404.html"]


def test_base_url_only_reaches_the_404_page(tmp_path: Path) -> None:
    pages = _render(tmp_path, base_url="/kb/")
    assert 'href="/kb/_kgraph/style.css"' in pages["404.html"]
    assert 'href="/kb/all/index.html"' in pages["404.html"]
    # Every other page links relatively, so the site works under any sub-path and from file://.
    others = [p for rel, p in pages.items() if rel != "404.html"]
    assert others and not [p for p in others if 'href="/' in p or 'src="/' in p]
    full = _render(tmp_path, base_url="https://example.org/kb")
    assert (
        '<link rel="canonical" href="https://example.org/kb/features/">'
        in full["features/index.html"]
    )


def test_inline_math_error_has_its_own_line(tmp_path: Path) -> None:
    config, _ = load_config(VAULT, tmp_path / "site")
    notes, files = load_notes(VAULT)
    output = render_site(build_graph(notes, files), config)
    errors = [(p.file, p.line) for p in output.problems if p.code == "math-error"]
    assert errors == [("Lines.md", 6)]
    page = output.files["lines/index.html"].decode()
    assert "math-error" in page and "<msup>" in page
