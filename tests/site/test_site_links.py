"""Every internal href/src of a built site resolves to a file, and to an id for a fragment."""

from __future__ import annotations

from pathlib import Path

from sitehtml import broken_links

from kgraph.site.output import SiteOutput


def test_internal_links_resolve(basic_site: tuple[Path, SiteOutput]) -> None:
    checked, broken = broken_links(basic_site[0])
    assert checked > 100
    assert broken == []


def test_checker_sees_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/index.html").write_text(
        '<a href="../b/index.html">b</a><a href="index.html#nope">x</a>'
        '<img src="../missing.png" alt=""><a href="https://example.org/">ext</a>'
    )
    (tmp_path / "b").mkdir()
    (tmp_path / "b/index.html").write_text('<p id="here">b</p>')
    checked, broken = broken_links(tmp_path)
    assert checked == 3
    assert broken == ["a/index.html: index.html#nope (no id)", "a/index.html: ../missing.png"]
