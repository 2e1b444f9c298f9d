"""The values that flow from the reader to the graph: RawNote, Link, Cell, Heading, Note."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from itertools import repeat
from typing import Any, Literal, NamedTuple

LinkKind = Literal["wikilink", "markdown", "frontmatter", "field"]


@dataclass(frozen=True)
class RawNote:
    """One note cut out of a source file, before any Markdown parsing.

    `frontmatter` is the YAML text between the `---` fences (None if the note has none);
    `body` is what follows. Line numbers are 1-based lines of the *source file*, so that
    notes concatenated in one file each keep their own `file:line`.
    """

    path: str  # vault-relative POSIX path of the source file
    index: int  # position of this note in its file (0 for the first)
    line: int  # line of the note's first line (its opening `---` if any)
    frontmatter: str | None
    frontmatter_line: int  # line of the first YAML line (after the opening fence)
    body: str
    body_line: int  # line of the first body line


class Link(NamedTuple):
    """A reference from a note to a target, as written (resolution happens in the graph).

    Links and headings are named tuples, not dataclasses: a large vault's parse cache holds
    a few hundred thousand of them, and tuples load from it six times faster.
    """

    target: str  # the linkpath, unescaped and percent-decoded; "" for same-note anchors
    line: int  # 1-based line in the source file
    relation: str = "links_to"  # snake_case: links_to, embeds, see_also, preceding, ...
    subpath: str | None = None  # "Heading", "H1#H2", "^block-id", "fig-label"
    display: str | None = None  # shown text, or an embed size such as "200" / "100x145"
    embed: bool = False
    kind: LinkKind = "wikilink"
    context: str = ""  # the sentence around the link, for backlink panels


class Heading(NamedTuple):
    level: int
    text: str  # plain text of the heading
    anchor: str  # the id it gets on the page
    line: int  # 1-based line in the source file


@dataclass(frozen=True)
class Cell:
    """An executable `{python}` block (or `python` with `#| exec: true`)."""

    index: int  # position among the note's cells, from 0
    code: str  # the source without the leading `#|` option lines
    options: dict[str, Any]  # parsed `#| key: value` options
    line: int  # 1-based line of the opening fence in the source file


@dataclass(frozen=True)
class Note:
    """A parsed note: frontmatter normalised, body parsed, links found (not yet resolved)."""

    path: str
    index: int
    line: int
    title: str
    titled: bool  # True if the title came from frontmatter, False if from the file stem
    body: str
    body_line: int
    frontmatter: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date: str | None = None  # ISO 8601 UTC
    params: dict[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    headings: tuple[Heading, ...] = ()
    block_ids: tuple[str, ...] = ()
    cells: tuple[Cell, ...] = ()
    draft: bool = False

    @property
    def stem(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0] if "." in name else name

    def __reduce__(self) -> tuple[Any, ...]:
        # Every build loads every note from the parse cache. Pickled as named tuples,
        # its links and headings cost a call of their Python `__new__` each (a third of
        # that load at 10,000 notes); as plain tuples, retyped in C, about 0.1 s less.
        state = self.__dict__
        values = tuple(() if name in _RETYPED else state[name] for name in _FIELDS)
        return (
            _rebuilt_note,
            (values, tuple(map(tuple, self.links)), tuple(map(tuple, self.headings))),
        )


_FIELDS = tuple(f.name for f in fields(Note))
_RETYPED = frozenset({"links", "headings"})
_tuple_new = tuple.__new__


def _rebuilt_note(
    values: tuple[Any, ...],
    links: tuple[tuple[Any, ...], ...],
    headings: tuple[tuple[Any, ...], ...],
) -> Note:
    """A pickled `Note` again (see `Note.__reduce__`), fields set in their order."""
    note = object.__new__(Note)
    state = note.__dict__
    state.update(zip(_FIELDS, values, strict=True))
    state["links"] = tuple(map(_tuple_new, repeat(Link), links))
    state["headings"] = tuple(map(_tuple_new, repeat(Heading), headings))
    return note
