"""Notes pickled for the parse cache come back equal, field for field and type for type."""

from __future__ import annotations

import copy
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.vault.note import Heading, Link, Note
from kgraph.vault.parse import parse_file

PIECES = st.sampled_from(
    [
        "---\ntitle: T\naliases: [A, B]\ntags: [x, y/z]\ndate: 2024-01-02\n---\n",
        "# Heading\n",
        "## Sub heading ^blk\n",
        "See [[Other note#Part|shown]] and [[Third]].\n",
        "![[figure.png|200]]\n",
        "See also: [[Far]]\n",
        "preceding: [[Before]]\n",
        "[md](Some%20note.md)\n",
        "```{python}\nx = 1\n```\n",
        "plain words\n",
        "\n",
        "$$a^2$$\n",
        "---\n",
    ]
)


@given(st.lists(PIECES, max_size=14).map("".join))
@settings(max_examples=150, deadline=None)
def test_parsed_notes_survive_pickling(text: str) -> None:
    notes, _ = parse_file(text.encode(), "dir/Note.md")
    for note in notes:
        for again in (pickle.loads(pickle.dumps(note, protocol=5)), copy.deepcopy(note)):
            assert again == note
            assert list(vars(again)) == list(vars(note))  # fields in their order
            assert all(type(link) is Link for link in again.links)
            assert all(type(h) is Heading for h in again.headings)
            assert [link._asdict() for link in again.links] == [
                link._asdict() for link in note.links
            ]


def test_a_note_with_links_and_headings_round_trips() -> None:
    note = Note(
        path="a.md",
        index=0,
        line=1,
        title="A",
        titled=True,
        body="x",
        body_line=1,
        links=(Link("B", 3, subpath="H", display="b", context="see B"),),
        headings=(Heading(1, "H", "h", 2),),
        tags=("t",),
    )
    again = pickle.loads(pickle.dumps(note))
    assert again == note and again.links[0].subpath == "H" and again.headings[0].anchor == "h"
    assert isinstance(again, Note) and again.stem == "a"
