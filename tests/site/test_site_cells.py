"""Cells on pages: hidden code, output, errors, stale figures, figure embeds, no-exec."""

from __future__ import annotations

from pathlib import Path

from sitehelpers import model_cells, render_vault
from sitehtml import Page


def test_cells_with_results(tmp_path: Path) -> None:
    output, _ = render_vault("cells", tmp_path, cells=model_cells(tmp_path))
    model = output.files["model/index.html"].decode()
    cells = model.split('<div class="cell ')[1:]
    assert len(cells) == 3
    quiet, failing, missing = cells
    assert "cell-code" not in quiet and "quiet code" in quiet  # echo: false hides only the code
    assert 'id="fig-curve"' in quiet and "Figure 1: A curve" in quiet
    assert failing.startswith("cell-error")
    assert "<code>Model.md:16</code> error" in failing
    assert "ValueError: boom &lt;script&gt;" in failing
    assert "Not executed (no result for this cell)." in missing
    assert "x <span" in missing or '<span class="n">x</span>' in missing


def test_figure_embed_and_missing_figure(tmp_path: Path) -> None:
    output, _ = render_vault("cells", tmp_path, cells=model_cells(tmp_path))
    theory = output.files["theory/index.html"].decode()
    parsed = Page(theory)
    assert parsed.find("img") == []  # the figure is inlined, not an <img>
    assert parsed.find("div", "figure-svg") == [
        {"class": "figure-svg", "role": "img", "aria-label": "A curve"}
    ]
    assert 'href="../_figures/model/fig-curve.svg" download' in theory
    assert "Missing figure <code>fig-nope</code>" in theory
    # The graph reports a missing figure once; the site only shows the marker.
    assert not [p for p in output.problems if p.code == "missing-figure"]


def test_stale_figure_shows_error(tmp_path: Path) -> None:
    output, _ = render_vault("cells", tmp_path, cells=model_cells(tmp_path, stale=True))
    model = output.files["model/index.html"].decode()
    assert '<figure class="figure stale" id="fig-curve">' in model
    assert '<strong class="stale-badge">stale</strong>' in model
    assert "ValueError: later failure" in model


def test_without_execution_cells_show_code(tmp_path: Path) -> None:
    output, _ = render_vault("cells", tmp_path, cells=None)
    model = output.files["model/index.html"].decode()
    assert model.count('<p class="cell-notice">Not executed.</p>') == 3
    assert "quiet code" in model  # the code of an echo: false cell is hidden, but only when run
    assert not [p for p in output.problems if p.code == "missing-figure"]


def test_custom_relation_and_overview_home(tmp_path: Path) -> None:
    output, _ = render_vault("cells", tmp_path, cells=None)
    model = output.files["model/index.html"].decode()
    assert "<h2>Part of</h2>" in model
    theory = output.files["theory/index.html"].decode()
    assert "<h2>Part of (incoming)</h2>" in theory
    home = output.files["index.html"].decode()
    assert "<h2>Hubs</h2>" in home and "<h2>Recent</h2>" in home
    recent = home[home.index("<h2>Recent</h2>") :]
    assert recent.index("Model") < recent.index("Theory")  # newest first


def test_a_figure_too_big_to_inline_stays_an_image_of_its_file(tmp_path: Path) -> None:
    from kgraph.site.figsvg import INLINE_MAX_BYTES, FigureSvgs

    small, big = tmp_path / "small.svg", tmp_path / "big.svg"
    small.write_text('<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>')
    dots = '<circle r="1"/>' * (INLINE_MAX_BYTES // 15 + 1)
    big.write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{dots}</svg>')
    assert big.stat().st_size > INLINE_MAX_BYTES
    svgs = FigureSvgs({"_figures/n/small.svg": small, "_figures/n/big.svg": big})
    tag = '<img src="../_figures/n/{0}.svg" alt="A" data-figure-svg="_figures/n/{0}.svg">'
    page = svgs.inline(tag.format("small") + tag.format("big"))
    assert page.count("<svg") == 1 and '<circle r="1"/>' in page
    assert tag.format("big") in page  # left as it was: the browser loads the file
    assert len(page) < 1000
