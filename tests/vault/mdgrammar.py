"""Note bodies for the fast paths' differential tests: real, synthetic and generated,
and the switch that turns a fast path off to ask markdown-it instead."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import strategies as st

from benchmarks.generate_vault import make_note
from kgraph.vault.source import read_notes

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def switched_off(name: str) -> Iterator[None]:
    """Set the environment switch `name` (`KGRAPH_NO_FASTSCAN`, ...) for the block."""
    old = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def synthetic_bodies(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    zipf = [1.0 / (j + 1) ** 1.1 for j in range(count)]
    bodies: list[str] = []
    for i in range(count):
        text = make_note(i, count, rng, zipf, cells=i % 5 == 0)
        notes, _ = read_notes(text.encode(), f"syn/{i}.md")
        bodies.extend(note.body for note in notes)
    return bodies


def vault_bodies() -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    for folder in (ROOT / "tests" / "vaults", ROOT / "notes"):
        for file in sorted(folder.rglob("*.md")):
            rel = file.relative_to(ROOT).as_posix()
            notes, _ = read_notes(file.read_bytes(), rel)
            found.extend((n.body, n.path, n.body_line) for n in notes)
    return found


# ---- a grammar of Markdown fragments -------------------------------------------------

WORD = st.sampled_from(
    ["alpha", "Beta", "γάμμα", "x", "1984", "Ca^{2+}", "rate", "it's", "a.b", "(see)", "A-B"]
)
LINK_INNER = st.text(st.sampled_from(list("ab #|^]./:-\\ $")), min_size=0, max_size=8)
JUNK = st.text(st.sampled_from(list("*_<>[]()$#!`~=^&%|:-\\{} .,?\n'\"é")), max_size=4)


def _inline_piece() -> st.SearchStrategy[str]:
    return st.one_of(
        WORD,
        WORD,
        LINK_INNER.map(lambda s: f"[[{s}]]"),
        LINK_INNER.map(lambda s: f"![[{s}]]"),
        st.sampled_from(["[[Note]]", "[[Note#Part|shown]]", "[[#Top]]", "[[https://x.org]]"]),
        st.sampled_from(["[md](Other%20note.md)", "[x](#frag)", "[y](a/b.md#h)", "[z](//h)"]),
        st.sampled_from(["#tag", "#nested/tag-x", "#1984", "a#b", "(#t)", "#"]),
        st.sampled_from(["`code [[no]]`", "`` a ` b ``", "`", "$x_1$", "$ no $", "2$", "$5"]),
        st.sampled_from(["\\(a_i\\)", "\\(", "**bold**", "**b:**", "*em*", "_u_", "~~s~~"]),
        st.sampled_from(["==m==", "<b>", "&amp;", "&", "^[fn]", "x ^abc", "%%c%%", "\\"]),
        JUNK,
    )


SENTENCE = st.lists(_inline_piece(), min_size=1, max_size=8).map(" ".join)


def _block() -> st.SearchStrategy[str]:
    indent = st.sampled_from(["", "", " ", "  ", "   ", "    ", "     "])
    return st.one_of(
        SENTENCE,
        SENTENCE,
        st.tuples(st.sampled_from(["#", "##", "###", "####", "#######"]), SENTENCE).map(" ".join),
        st.tuples(indent, st.sampled_from(["- ", "* ", "+ ", "1. ", "2) ", "-"]), SENTENCE).map(
            "".join
        ),
        st.tuples(indent, st.sampled_from(["```", "~~~", "````"]), SENTENCE).map(
            lambda t: f"{t[0]}{t[1]}\n{t[0]}{t[2]}\n{t[0]}{t[1]}"
        ),
        st.tuples(st.sampled_from(["{python}", "python", "{python} x"]), SENTENCE).map(
            lambda t: f"```{t[0]}\n#| label: fig-a\n#| exec: true\n{t[1]}\n```"
        ),
        st.tuples(indent, SENTENCE).map(lambda t: f"{t[0]}$$\n{t[0]}{t[1]}\n{t[0]}$$"),
        st.sampled_from(["$$ x $$", "$$x", "$$", "$$ a $$ (1)", "---", "***", "===", "- - -"]),
        st.tuples(
            st.sampled_from(["See also", "preceding", "Following", "**See also:**", "key:"]),
            st.sampled_from([": [[a]]", ": [[a]], [[b]]  ", ":: [[c]] text", ": text [[d]]"]),
        ).map("".join),
        st.sampled_from(["> quote [[q]]", "> [!note] T", "| a | b |\n|---|---|", "[r]: /u"]),
        st.sampled_from(["^blockid", "text ^id-1", "- item ^li", "- [ ] task", "Term\n: def"]),
        st.sampled_from(["", " ", "\t", "<div>", "    code [[c]]", "\u00a0x", "a\r\nb"]),
    )


DOCUMENT = st.lists(
    st.tuples(_block(), st.sampled_from(["\n", "\n\n", "\n\n\n"])), min_size=1, max_size=10
).map(lambda parts: "".join(a + b for a, b in parts))


SAFE_PIECE = st.one_of(
    WORD,
    st.sampled_from(["[[Note]]", "[[a|b]]", "[[N#h|s]]", "![[f.png|20]]", "[[#x]]", "[[^^]]"]),
    st.sampled_from(["#tag", "#a/b", "$x^2$", "\\(a_i\\)", "`c`", "**b**", "[m](n.md)", "1$"]),
    st.sampled_from([".", "!", "?", ":", "::", ",", "  \n", "\n", " ^id", "(x)"]),
)
ORDINARY = st.lists(
    st.one_of(
        st.lists(SAFE_PIECE, min_size=1, max_size=10).map(" ".join),
        st.lists(SAFE_PIECE, min_size=1, max_size=6).map(lambda p: "### " + " ".join(p)),
        st.tuples(
            st.sampled_from(["- ", "  - ", "1. ", "   ", "    - ", "2. "]),
            st.lists(SAFE_PIECE, min_size=1, max_size=6).map(" ".join),
        ).map("".join),
        st.sampled_from(["$$", "   $$", "```", "```{python}\n#| echo: false", "---", "", "x ^b"]),
    ),
    min_size=1,
    max_size=14,
).map("\n".join)
