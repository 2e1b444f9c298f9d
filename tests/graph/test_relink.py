"""Relinking the files whose links changed gives the graph linking everything again gives,
down to the order networkx keeps edges and stubs in; edits it cannot take leave the
graph alone."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.graph.build import ConceptGraph, build_graph
from kgraph.graph.relink import relink
from kgraph.vault.note import Note
from kgraph.vault.parse import parse_file

NAMES = [f"N{i}" for i in range(8)]
# Targets: notes, a heading of a note, a missing heading, an alias, a stub two notes
# always want (so it never goes away), stubs that come and go, an in-page link.
TARGETS = [
    *NAMES,
    "N1#Part",
    "N2#Nowhere",
    "Second name",
    "Wanted",
    "Missing one",
    "missing ONE",  # the same stub: the first link wanting it names it
    "Missing two",
    "(N0)",  # a stub that takes the slug `n0` from note N0 (its key sorts first)
    "N0!",  # a stub whose slug is `n0-2` or `n0-3`
    "",
]


def _text(i: int, links: list[str]) -> str:
    alias = "aliases: [Second name]\n" if i == 3 else ""
    always = " Always [[Wanted]]." if i in (0, 5) else ""
    body = " ".join(f"See [[{t}]]." if t else "See [[#Part]]." for t in links)
    return f"---\ntitle: N{i}\n{alias}---\n# Part\n\nText.{always}\n\n{body}\n"


def _files(links: dict[int, list[str]]) -> dict[str, str]:
    """N0..N7 a file each, and M1 and M2 in one file (number 8 for both)."""
    files = {f"N{i}.md": _text(i, links[i]) for i in range(len(NAMES))}
    two = [_text(i, links[8]).replace(f"N{i}", f"M{i}") for i in (1, 2)]
    files["M.md"] = two[0] + "\n" + two[1]
    return files


def _notes(files: dict[str, str]) -> list[Note]:
    notes: list[Note] = []
    for rel in sorted(files):
        notes.extend(parse_file(files[rel].encode(), rel)[0])
    return notes


def shape(cg: ConceptGraph) -> tuple[Any, ...]:
    """Everything of a linked graph that output can depend on, in networkx's order."""
    g = cg.graph
    return (
        list(g.nodes(data=True)),
        [(u, [(v, list(keys.items())) for v, keys in nbrs.items()]) for u, nbrs in g._succ.items()],
        [(v, list(sources)) for v, sources in g._pred.items()],
        [(k, c.title, c.kind, c.slug, c.aliases) for k, c in cg.concepts.items()],
        sorted(cg.problems),  # reported sorted: their order in the list does not matter
        cg.figure_refs,
    )


links = st.lists(st.sampled_from(TARGETS), max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(links, min_size=len(NAMES) + 1, max_size=len(NAMES) + 1),
    edits=st.dictionaries(st.integers(0, len(NAMES)), links, min_size=1, max_size=3),
)
def test_relinking_equals_linking_again(
    before: list[list[str]], edits: dict[int, list[str]]
) -> None:
    old = _files(dict(enumerate(before)))
    new = _files({**dict(enumerate(before)), **edits})
    files = sorted(new)
    kept = build_graph(_notes(old), files)
    notes = _notes(new)
    fresh = build_graph(notes, files)
    edited = {rel for rel in new if new[rel] != old[rel]}
    assert relink(kept, notes, edited)  # stubs coming, going or renamed included
    assert shape(kept) == shape(fresh)


def test_a_hub_gaining_a_source_keeps_its_sources_in_linking_order() -> None:
    """The new source sits between the others in the target's in-edges, by note order."""
    old = {f"N{i}.md": _text(i, ["N7"] if i != 4 else []) for i in range(len(NAMES))}
    new = {**old, "N4.md": _text(4, ["N7", "N1"])}
    kept = build_graph(_notes(old), sorted(new))
    notes = _notes(new)
    assert relink(kept, notes, {"N4.md"})
    assert list(kept.graph._pred["n7"]) == ["n0", "n1", "n2", "n3", "n4", "n5", "n6"]
    assert shape(kept) == shape(build_graph(notes, sorted(new)))


def test_relinking_says_whether_the_edges_changed() -> None:
    old = {f"N{i}.md": _text(i, ["N7"]) for i in range(len(NAMES))}
    kept = build_graph(_notes(old), sorted(old))
    moved = {**old, "N4.md": _text(4, ["N7"]).replace("Text.", "Text.\n\nMore text.")}
    done = relink(kept, _notes(moved), {"N4.md"})
    assert done is not None and not done.edges_changed  # the link only moved a line
    assert shape(kept) == shape(build_graph(_notes(moved), sorted(moved)))
    linked = {**moved, "N4.md": _text(4, ["N7", "N1"])}
    done = relink(kept, _notes(linked), {"N4.md"})
    assert done is not None and done.edges_changed
    wanting = {**linked, "N4.md": _text(4, ["N7", "N1", "Missing one"])}
    done = relink(kept, _notes(wanting), {"N4.md"})
    assert done is not None and done.edges_changed  # a new stub


def test_merged_duplicates_and_figure_links_are_refused() -> None:
    old = {
        "A.md": "---\ntitle: Same\n---\nSee [[B]].\n",
        "dup/A.md": "---\ntitle: Same\n---\nSee [[B]].\n",
        "B.md": "B.\n",
    }
    kept = build_graph(_notes(old), sorted(old))
    new = {**old, "A.md": "---\ntitle: Same\n---\nSee [[B]] and [[C]].\n"}
    before = shape(kept)
    assert relink(kept, _notes(new), {"A.md"}) is None  # the concept spans two files
    figure = {**old, "B.md": "B links [[A#fig-trace]].\n"}
    assert relink(kept, _notes(figure), {"B.md"}) is None
    assert shape(kept) == before
