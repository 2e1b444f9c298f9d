from __future__ import annotations

from dataclasses import replace

from graphnotes import graph_of, make_note

from kgraph.graph.build import add_figure, link_figure_embeds
from kgraph.vault.note import Heading, Link


def test_same_title_merges_newest_first_and_reports_each_extra_note() -> None:
    old = make_note("log.md", title="Chat log", date="2023-01-01T00:00:00+00:00", line=1)
    new = make_note("log.md", title="chat  LOG", date="2024-05-01T00:00:00Z", index=1, line=40)
    undated = make_note("other/copy.md", title="Chat Log")
    cg = graph_of([old, new, undated])
    concept = cg.concepts["chat log"]
    assert concept.notes == [new, old, undated]
    dups = [(p.file, p.line, p.severity) for p in cg.problems if p.code == "duplicate-concept"]
    assert dups == [("log.md", 40, "info"), ("other/copy.md", 1, "info")]
    attrs = cg.graph.nodes["chat log"]
    assert attrs["paths"] == ["log.md", "other/copy.md"]
    assert attrs["dates"] == ["2024-05-01T00:00:00Z", "2023-01-01T00:00:00+00:00"]
    assert len(cg.graph) == 1


def test_untitled_same_stem_files_stay_distinct() -> None:
    cg = graph_of([make_note("a/index.md"), make_note("b/index.md")])
    assert set(cg.concepts) == {"a/index", "b/index"}
    assert cg.concepts["a/index"].title == "index"
    assert cg.concepts["a/index"].slug != cg.concepts["b/index"].slug
    assert not [p for p in cg.problems if p.code == "duplicate-concept"]


def test_stub_for_unresolved_target_with_every_referrer() -> None:
    a = make_note("a.md", links=["Missing Idea"])
    b = make_note("b.md", links=[Link(target="missing idea", line=12)])
    cg = graph_of([a, b])
    stub = cg.concepts["missing idea"]
    assert (stub.kind, stub.title, stub.notes) == ("stub", "Missing Idea", [])
    assert cg.graph.nodes["missing idea"]["kind"] == "stub"
    assert sorted(s for s, _ in cg.graph.in_edges("missing idea")) == ["a", "b"]
    warnings = [(p.file, p.line) for p in cg.problems if p.code == "unresolved-link"]
    assert warnings == [("a.md", 2), ("b.md", 12)]


def test_two_casings_one_node_and_repeats_collapse() -> None:
    a = make_note(
        "a.md",
        links=[Link("Target", 3), Link("target", 9), Link("TARGET", 11, relation="see_also")],
    )
    cg = graph_of([a, make_note("Target.md")])
    edges = sorted(cg.graph.edges("a", keys=True, data=True))
    assert [(s, t, k) for s, t, k, _ in edges] == [
        ("a", "target", "links_to"),
        ("a", "target", "see_also"),
    ]
    first = cg.graph.edges["a", "target", "links_to"]
    assert (first["count"], first["line"], first["relation"], first["path"]) == (
        2,
        3,
        "links_to",
        "a.md",
    )


def test_typed_relations_and_embeds() -> None:
    links = [
        Link("prev", 5, relation="preceding"),
        Link("next", 6, relation="following"),
        Link("other", 8, relation="see_also", context="See also: [[other]]"),
        Link("other", 9, relation="embeds", embed=True),
    ]
    cg = graph_of(
        [make_note("n.md", links=links)] + [make_note(f"{x}.md") for x in ("prev", "next", "other")]
    )
    assert sorted(k for _, _, k in cg.graph.out_edges("n", keys=True)) == [
        "embeds",
        "following",
        "preceding",
        "see_also",
    ]
    assert cg.graph.edges["n", "other", "see_also"]["context"] == "See also: [[other]]"


def test_no_self_edges_and_no_edges_to_attachments_or_urls() -> None:
    links = [
        Link("", 3, subpath="Heading"),
        Link("Me", 4),
        Link("pic.png", 5, embed=True, relation="embeds"),
        Link("https://example.org", 6),
    ]
    cg = graph_of([make_note("me.md", links=links)], extra_files=["pic.png"])
    assert cg.graph.number_of_edges() == 0
    assert list(cg.graph) == ["me"]
    assert not [p for p in cg.problems if p.code == "unresolved-link"]


def test_traversal_makes_no_stub() -> None:
    cg = graph_of([make_note("a/n.md", links=["../../etc/passwd"])])
    assert list(cg.graph) == ["n"]
    assert [p.code for p in cg.problems] == ["unsafe-path"]


def test_links_land_on_the_concept_of_the_file() -> None:
    target = make_note("notes/2024-x.md", title="Hebbian learning")
    cg = graph_of([make_note("a.md", links=["2024-x", "hebbian LEARNING"]), target])
    assert list(cg.graph.successors("a")) == ["hebbian learning"]
    assert cg.graph.edges["a", "hebbian learning", "links_to"]["count"] == 2


def test_lookup_by_any_name() -> None:
    note = make_note("dir/STDP file.md", title="Spike-timing plasticity", aliases=["STDP"])
    cg = graph_of([note])
    key = "spike-timing plasticity"
    names = ["spike-TIMING plasticity", "stdp", "STDP file", "dir/stdp file.md", "dir/STDP file"]
    for name in [*names, cg.concepts[key].slug, "spike timing_plasticity"]:
        assert cg.lookup(name) == key, name
    assert cg.lookup("nothing like it") is None
    assert cg.concept_of(note) == key


def test_suggest_close_titles_and_aliases() -> None:
    cg = graph_of(
        [make_note("a.md", title="Calcium dynamics", aliases=["Ca2+ model"]), make_note("b.md")]
    )
    assert cg.suggest("calcium dynamic")[0] == "Calcium dynamics"
    assert "Ca2+ model" in cg.suggest("ca2 model")
    assert cg.suggest("zzzzzz") == []


def test_figures_and_figure_embeds() -> None:
    embed = Link("Model", 4, relation="embeds", embed=True, subpath="fig-window")
    missing = Link("Model", 5, subpath="fig-none")
    cg = graph_of([make_note("model.md"), make_note("user.md", links=[embed, missing])])
    key = add_figure(cg, "model", "fig-window", "The STDP window", svg="figs/w.svg")
    assert key == "model#fig-window"
    attrs = cg.graph.nodes[key]
    assert (attrs["kind"], attrs["caption"], attrs["svg"]) == (
        "figure",
        "The STDP window",
        "figs/w.svg",
    )
    assert cg.graph.has_edge("model", key, key="has_figure")
    found = link_figure_embeds(cg)
    assert cg.graph.has_edge("user", key, key="embeds")
    assert [(p.code, p.line) for p in found] == [("missing-figure", 5)]
    assert cg.lookup("model#fig-window") == key


def test_missing_anchor_warns_but_keeps_the_edge() -> None:
    headings = (Heading(2, "Main: idea", "main-idea", 3), Heading(3, "Sub", "sub", 5))
    target = replace(make_note("t.md"), headings=headings, block_ids=("abc-1",))
    links = [
        Link("t", 2, subpath="main idea"),
        Link("t", 3, subpath="Main: Idea#sub"),
        Link("t", 4, subpath="^ABC-1"),
        Link("t", 5, subpath="nope"),
        Link("t", 6, subpath="^zzz"),
        Link("t", 7, subpath="fig-later"),
        Link("", 8, subpath="Own heading"),
    ]
    cg = graph_of([make_note("s.md", links=links), target])
    missing = [p.line for p in cg.problems if p.code == "missing-anchor"]
    assert missing == [5, 6, 8]
    assert cg.graph.has_edge("s", "t", key="links_to")


def test_path_and_extension_forms_want_one_stub() -> None:
    links = [Link("dir/Missing Thing", 2), Link("missing thing.md", 3), Link("MISSING THING", 4)]
    cg = graph_of([make_note("s.md", links=links)])
    assert cg.concepts["missing thing"].title == "Missing Thing"
    assert cg.graph.edges["s", "missing thing", "links_to"]["count"] == 3
    assert len([p for p in cg.problems if p.code == "unresolved-link"]) == 3


def test_unresolved_folder_path_does_not_land_on_a_real_note() -> None:
    cg = graph_of([make_note("Neuron.md"), make_note("s.md", links=["nowhere/Neuron"])])
    assert cg.concepts["nowhere/neuron"].kind == "stub"
    assert not cg.graph.has_edge("s", "neuron")


def test_titled_and_untitled_stem_merge_under_the_frontmatter_title() -> None:
    cg = graph_of([make_note("Neuron.md"), make_note("x/n2.md", title="NEURON")])
    assert list(cg.concepts) == ["neuron"]
    assert cg.concepts["neuron"].title == "NEURON"
    assert [p.file for p in cg.problems if p.code == "duplicate-concept"] == ["x/n2.md"]
