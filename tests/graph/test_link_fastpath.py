"""Linking reads the resolver's memo directly for most links; it must give what resolving
every link in full gives: the same nodes, edges with their attributes, and problems."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kgraph.graph.resolve as resolve_module
from kgraph.graph.build import ConceptGraph, build_graph
from kgraph.vault.note import Link, Note
from tests.graph.graphnotes import make_note


class _Forgetful(dict):  # type: ignore[type-arg]
    """A memo that never remembers: every link takes the full path."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default


def _facts(cg: ConceptGraph) -> tuple[Any, ...]:
    return (
        sorted(cg.graph.nodes(data=True), key=lambda n: n[0]),
        sorted(cg.graph.edges(keys=True, data=True), key=lambda e: e[:3]),
        cg.problems,
        cg.figure_refs,
    )


def _built_both_ways(notes: list[Note], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = _facts(build_graph(notes, [n.path for n in notes]))
    with monkeypatch.context() as m:
        plain_init = resolve_module.Resolver.__init__

        def forgetful_init(self: Any, *args: Any) -> None:
            plain_init(self, *args)
            self.memo = _Forgetful()

        m.setattr(resolve_module.Resolver, "__init__", forgetful_init)
        slow = _facts(build_graph(notes, [n.path for n in notes]))
    return fast, slow


_NAMES = ["A", "b", "a", "Dir/C", "./A", " A ", "..", "c.md", "Missing", "x.png", "A#H", ""]
_link = st.builds(
    Link,
    target=st.sampled_from(_NAMES),
    line=st.integers(1, 9),
    relation=st.sampled_from(["links_to", "see_also", "follows"]),
    subpath=st.sampled_from([None, None, "H", "fig-one", "^blk"]),
    kind=st.sampled_from(["wikilink", "wikilink", "markdown", "frontmatter"]),
    context=st.sampled_from(["", "one", "two"]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A.md", "b.md", "Dir/C.md", "Other/C.md", "d.md"]),
            st.sampled_from([None, "A", "Title"]),
            st.lists(_link, max_size=8),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda spec: spec[0],
    )
)
def test_memo_fast_path_equals_resolving_every_link(
    specs: list[tuple[str, str | None, list[Link]]],
) -> None:
    notes = [make_note(path, title, links, index=0) for path, title, links in specs]
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _built_both_ways(notes, monkeypatch)
    assert fast == slow


def test_the_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated bare links are answered from the memo (so the test above compares two
    different paths, not one path twice)."""
    notes = [make_note("A.md", links=["b", "b"]), make_note("b.md", links=["A", "A"])]
    seen: list[Link] = []
    plain = resolve_module.Resolver.resolve

    def counting(self: Any, link: Link, source: str) -> Any:
        seen.append(link)
        return plain(self, link, source)

    monkeypatch.setattr(resolve_module.Resolver, "resolve", counting)
    cg = build_graph(notes, ["A.md", "b.md"])
    assert len(seen) == 2  # one per distinct target; the repeats come from the memo
    assert cg.graph.edges["a", "b", "links_to"]["count"] == 2
