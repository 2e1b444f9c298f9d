"""Structure of the pages built from the `basic` vault."""

from __future__ import annotations

from pathlib import Path

from sitehtml import Page

from kgraph.site.output import SiteOutput
from kgraph.site.search import search_source


def page(site: tuple[Path, SiteOutput], rel: str) -> str:
    return (site[0] / rel).read_text(encoding="utf-8")


def test_concept_page_header(basic_site: tuple[Path, SiteOutput]) -> None:
    text = page(basic_site, "neuron/index.html")
    assert '<html lang="en">' in text
    assert '<h1 data-pagefind-meta="title">Neuron</h1>' in text
    assert '<span class="alias">Nerve cell</span>' in text
    assert 'href="../tags/biology/cells/index.html">#biology/cells</a>' in text
    assert '<time datetime="2023-11-14' in text
    assert "<code>Neuron.md</code>" in text


def test_relations_panel_groups_and_sequence(basic_site: tuple[Path, SiteOutput]) -> None:
    text = page(basic_site, "neuron/index.html")
    aside = text[text.index('<aside class="relations"') :]
    assert (
        '<h2>See also</h2>\n  <ul>\n    <li><a class="internal" href="../dendrite/index.html">'
        in aside
    )
    assert '<h2>Following</h2><ul><li><a class="internal" href="../synapse/index.html">' in aside
    assert 'class="internal stub" href="../missing-concept/index.html"' in aside
    # Neuron -> following -> Synapse makes Neuron precede Synapse.
    synapse = page(basic_site, "synapse/index.html")
    assert 'rel="prev" href="../neuron/index.html">Neuron</a>' in synapse


def test_backlinks_carry_context(basic_site: tuple[Path, SiteOutput]) -> None:
    text = page(basic_site, "neuron/index.html")
    backlinks = text[text.index("<h2>Backlinks</h2>") :]
    assert '<a class="internal" href="../synapse/index.html">Synapse</a>' in backlinks
    assert '<p class="context">Every Neuron has thousands of them.</p>' in backlinks


def test_links_and_anchors_in_body(basic_site: tuple[Path, SiteOutput]) -> None:
    text = page(basic_site, "neuron/index.html")
    parsed = Page(text)
    assert {"structure", "signalling", "block-key-point", "fig-rate"} <= parsed.ids
    assert 'href="../synapse/index.html#plasticity"' in text
    assert '<a class="internal self" href="#structure">' in text
    assert "plasticity" in Page(page(basic_site, "synapse/index.html")).ids


def test_transclusions(basic_site: tuple[Path, SiteOutput]) -> None:
    neuron = page(basic_site, "neuron/index.html")
    section = neuron[neuron.index('data-embed="synapse"') :]
    assert "Synapses strengthen with use." in section.split("</div>")[1]
    assert "A synapse joins two cells" not in section[:400]
    synapse = page(basic_site, "synapse/index.html")
    block = synapse[synapse.index('data-embed="neuron"') :]
    assert "This is the key point." in block[:1200]
    assert "A neuron is an excitable cell" not in block[:1200]


def test_embed_cycle_is_reported_and_stops(basic_site: tuple[Path, SiteOutput]) -> None:
    codes = {(p.file, p.code) for p in basic_site[1].problems}
    assert ("Cycle A.md", "embed-cycle") in codes
    text = page(basic_site, "cycle-a/index.html")
    assert text.count('class="transclusion"') <= 3


def test_sized_image_embed_is_copied(basic_site: tuple[Path, SiteOutput]) -> None:
    img = Page(page(basic_site, "neuron/index.html")).find("img", "embed-image")
    assert img == [
        {"class": "embed-image", "src": "../_files/diagram.png", "alt": "diagram.png",
         "width": "200", "loading": "lazy"}
    ]  # fmt: skip
    assert (basic_site[0] / "_files/diagram.png").read_bytes().startswith(b"\x89PNG")


def test_cell_output_and_figure(basic_site: tuple[Path, SiteOutput]) -> None:
    text = page(basic_site, "neuron/index.html")
    assert "<samp>hello from cell\n</samp>" in text
    fig = Page(text).find("figure", "figure")
    assert fig and fig[0]["id"] == "fig-rate"
    # Inlined so that currentColor text follows the theme; the file stays downloadable.
    inline = text[text.index('<div class="figure-svg" role="img" aria-label="Firing rate">') :]
    assert inline.index('<svg aria-hidden="true"') < inline.index('<rect width="40"')
    assert inline.index('<rect width="40"') < inline.index("</svg></div>")
    assert 'href="../_figures/neuron/fig-rate.svg" download' in text
    assert "Figure 1: Firing rate" in text
    assert '<a class="fig-ref" href="#fig-rate">Figure 1</a>' in text
    assert '<details class="provenance">' in text
    assert (basic_site[0] / "_figures/neuron/fig-rate.json").is_file()


def test_stub_and_wanted_pages(basic_site: tuple[Path, SiteOutput]) -> None:
    stub = page(basic_site, "missing-concept/index.html")
    assert "This concept has no note yet." in stub
    assert 'href="../neuron/index.html">Neuron</a>' in stub
    wanted = page(basic_site, "wanted/index.html")
    row = wanted[wanted.index("Missing concept") :]
    assert 'href="../neuron/index.html">Neuron</a>' in row.split("</tr>")[0]
    # Search finds what is written: a stub page is left out of the index, a note's is not.
    assert search_source(stub.encode()) is None
    found = search_source(page(basic_site, "neuron/index.html").encode())
    assert found is not None and b"Neuron" in found


def test_tags_index_hides_single_use_tags(basic_site: tuple[Path, SiteOutput]) -> None:
    tags = page(basic_site, "tags/index.html")
    assert 'href="biology/index.html">#biology</a> <span class="count">3</span>' in tags
    assert 'href="biology/cells/index.html">#biology/cells</a>' in tags
    assert "#anatomy" not in tags and "#single" not in tags
    anatomy = page(basic_site, "tags/anatomy/index.html")
    assert 'href="../../dendrite/index.html">Dendrite</a>' in anatomy
    nested = page(basic_site, "tags/biology/cells/index.html")
    assert 'href="../index.html">#biology</a>' in nested


def test_home_all_figures_graph_404(basic_site: tuple[Path, SiteOutput]) -> None:
    home = page(basic_site, "index.html")
    assert "Welcome." in home and 'href="neuron/index.html"' in home
    assert 'href="../neuron/index.html">Neuron</a>' in page(basic_site, "all/index.html")
    figures = page(basic_site, "figures/index.html")
    assert 'href="../neuron/index.html#fig-rate"' in figures
    assert 'src="../_figures/neuron/fig-rate.svg"' in figures
    data = page(basic_site, "graph/graph-data.js")
    assert data.startswith("window.KGRAPH_GRAPH=") and '"../neuron/index.html"' in data
    assert 'href="/_kgraph/style.css"' in page(basic_site, "404.html")
    assert (basic_site[0] / "_kgraph/style.css").is_file()


def test_dependencies_name_what_a_page_shows(basic_site: tuple[Path, SiteOutput]) -> None:
    deps = basic_site[1].dependencies
    assert {"neuron", "synapse", "dendrite", "missing concept"} <= deps["neuron/index.html"]
    assert "hostile" not in " ".join(deps["neuron/index.html"])
