"""The bundled sample vault (`notes/`) built as a site: links resolve, pages are well formed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sitehelpers import render_folder
from sitehtml import Balance, Page, broken_links

from kgraph.publish import publish

SAMPLE = Path(__file__).parent.parent.parent / "notes"


def _problems_of_pages(out: Path) -> list[str]:
    errors: list[str] = []
    for path in sorted(out.rglob("*.html")):
        rel = path.relative_to(out).as_posix()
        if not rel.startswith("pagefind/"):
            text = path.read_text("utf-8")
            errors.extend(f"{rel}: {e}" for e in Balance(text).errors)
            errors.extend(
                f"{rel}: <img> without alt" for a in Page(text).find("img") if "alt" not in a
            )
    return errors


def _outside_requests(out: Path) -> list[str]:
    """Resources (not plain links) that a page would fetch from another host."""
    found = []
    for path in sorted(out.rglob("*.html")):
        page = Page(path.read_text("utf-8"))
        for tag, attrs in page.elements:
            url = attrs.get("src", "") if tag != "link" else attrs.get("href", "")
            if re.match(r"^(https?:)?//", url):
                found.append(f"{path.relative_to(out)}: <{tag}> {url}")
    for css in out.rglob("*.css"):
        found.extend(
            f"{css.name}: {u}" for u in re.findall(r"url\(['\"]?(?:https?:)?//", css.read_text())
        )
    return found


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sample")
    output, config = render_folder(SAMPLE, tmp)
    publish(config.out, output.files, output.copies)
    return config.out


def test_sample_links_resolve(sample_site: Path) -> None:
    checked, broken = broken_links(sample_site)
    assert checked > 1000
    assert broken == []


def test_sample_pages_are_well_formed(sample_site: Path) -> None:
    assert len(list(sample_site.rglob("*.html"))) > 60
    assert _problems_of_pages(sample_site) == []


def test_sample_fetches_nothing_from_elsewhere(sample_site: Path) -> None:
    assert _outside_requests(sample_site) == []


def test_sample_inline_tags_link_to_tag_pages(sample_site: Path) -> None:
    spans = [p for p in sample_site.rglob("index.html") if '<span class="tag"' in p.read_text()]
    assert spans == []


@pytest.mark.slow
def test_sample_build_with_figures(tmp_path: Path) -> None:
    """The real build, cells and search included: figures are inlined and links still hold."""
    from kgraph.build import build

    out = tmp_path / "site"
    assert build(SAMPLE, out, quiet=True) == 0
    checked, broken = broken_links(out)
    assert broken == [] and checked > 1000
    assert _problems_of_pages(out) == []
    assert _outside_requests(out) == []
    stdp = (out / "spike-timing-dependent-plasticity/index.html").read_text()
    assert stdp.count('<div class="figure-svg" role="img"') == 2
    assert "currentColor" in stdp and '<img class="figure-img"' not in stdp
    assert (out / "pagefind/pagefind-ui.js").is_file()
