"""parse_body facts: links, relations, lines, tags, headings, block ids, cells, problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgraph.vault.hooks import PlainHooks
from kgraph.vault.markdown import (
    anchor_for_subpath,
    block_anchor,
    heading_anchor,
    parse_body,
    render_body,
)
from kgraph.vault.note import Link


def links(body: str, body_line: int = 1) -> list[Link]:
    return list(parse_body(body, path="n.md", body_line=body_line).links)


def codes(body: str) -> list[str]:
    return [p.code for p in parse_body(body, path="n.md", body_line=1).problems]


def test_wikilink_parts() -> None:
    found = links("[[Folder/T.md#H1#H2|shown]] [[T#^blk]] [[#Local]]")
    assert [(x.target, x.subpath, x.display) for x in found] == [
        ("Folder/T.md", "H1#H2", "shown"),
        ("T", "^blk", None),
        ("", "Local", None),
    ]
    assert all(x.kind == "wikilink" and x.relation == "links_to" for x in found)


def test_embed_keeps_size_and_relation() -> None:
    (img,) = links("![[pic.png|100x145]]")
    assert (img.target, img.display, img.embed, img.relation) == (
        "pic.png",
        "100x145",
        True,
        "embeds",
    )


def test_lines_are_absolute_and_count_paragraph_newlines() -> None:
    body = "intro\n\nfirst line [[a]]\nsecond [[b]]\n\n- item\n- other [[c]]\n"
    assert [(x.target, x.line) for x in links(body, body_line=10)] == [
        ("a", 12),
        ("b", 13),
        ("c", 16),
    ]


def test_lines_in_tables_and_callouts() -> None:
    body = "| h |\n|---|\n| [[t]] |\n\n> [!note] Title [[in-title]]\n> body\n> more [[in-body]]\n"
    assert [(x.target, x.line) for x in links(body, body_line=3)] == [
        ("t", 5),
        ("in-title", 7),
        ("in-body", 9),
    ]


def test_markdown_links_to_notes_only() -> None:
    found = links("[a](Sub/My%20Note.md#Part) [b](<x y>) [c](https://e.org/a.md) [d](#frag)")
    assert [(x.target, x.subpath, x.display, x.kind) for x in found] == [
        ("Sub/My Note.md", "Part", "a", "markdown"),
        ("x y", None, "b", "markdown"),
    ]
    (img,) = links("![250](pics/a%20b.png)")
    assert (img.target, img.display, img.embed, img.relation) == (
        "pics/a b.png",
        "250",
        True,
        "embeds",
    )


def test_table_pipes() -> None:
    body = "| a | b |\n|---|---|\n| [[x\\|y]] | [[p|q]] |\n"
    assert [(x.target, x.display) for x in links(body)] == [("x", "y"), ("p", "q")]


def test_nothing_inside_code_math_or_comments() -> None:
    body = (
        "`[[c1]]` $[[m1]]$ \\([[m2]]\\) %%[[k1]]%%\n\n```\n[[c2]] #t1\n```\n\n"
        "$$\n[[m3]]\n$$\n\n%%\n[[k2]] #t2\n%%\n\n    [[c3]]\n\n[[out]] #out"
    )
    parsed = parse_body(body, path="n.md", body_line=1)
    assert [x.target for x in parsed.links] == ["out"]
    assert parsed.tags == ("out",)


def test_relation_lines() -> None:
    body = (
        "---\npreceding: [[a]]  \nfollowing: [[b]]---\n\n"
        "See also: [[c]], [[d]] and [[e]]\n\nSEE ALSO: [[f]]\n\n**Part of:** [[g]]\n\n"
        "*Next step*: [[h]]\n"
    )
    found = {x.target: x.relation for x in links(body)}
    assert found == {
        "a": "preceding",
        "b": "following",
        "c": "see_also",
        "d": "see_also",
        "e": "see_also",
        "f": "see_also",
        "g": "part_of",
        "h": "next_step",
    }


def test_not_relation_lines() -> None:
    body = (
        "Note: read [[a]] first\n\nOne two three four five: [[b]]\n\n"
        "### Related Topics\n\n- [[c]]\n- [[d]]\n\nPlain [[e]]\n"
    )
    assert {x.relation for x in links(body)} == {"links_to"}


def test_dataview_fields() -> None:
    body = "author:: [[Ann]]\n\nText [part of:: [[Whole]]] and (Next Step:: [[Later]]) [[plain]]\n"
    found = {x.target: x.relation for x in links(body)}
    assert found == {"Ann": "author", "Whole": "part_of", "Later": "next_step", "plain": "links_to"}


def test_embed_in_relation_line_stays_embed() -> None:
    (x,) = links("See also: ![[pic.png]]")
    assert x.relation == "embeds"


def test_context_is_the_sentence() -> None:
    body = "First sentence here. The second one mentions [[Target|it]] clearly! Third."
    (x,) = links(body)
    assert x.context == "The second one mentions it clearly!"
    long = "word " * 60 + "[[T]] " + "tail " * 60
    (y,) = links(long)
    assert "T" in y.context and len(y.context) <= 200
    assert all(w in ("word", "T", "tail") for w in y.context.split())


def test_tags_folded_deduped_in_order() -> None:
    parsed = parse_body("#B #a #b #1984 #x/Y", path="n.md", body_line=1)
    assert parsed.tags == ("b", "a", "x/y")


def test_headings_anchor_and_lines() -> None:
    body = "### Intro\n\ntext\n\n## Intro\n\n# With [[Link|shown]]\n"
    parsed = parse_body(body, path="n.md", body_line=4)
    assert [(h.level, h.text, h.anchor, h.line) for h in parsed.headings] == [
        (3, "Intro", "intro", 4),
        (2, "Intro", "intro-1", 8),
        (1, "With shown", "with-shown", 10),
    ]
    assert [x.target for x in parsed.links] == ["Link"]
    html = render_body(body, PlainHooks(), path="n.md", body_line=4).html
    assert '<h3 id="intro">' in html and '<h2 id="intro-1">' in html


def test_block_ids_recorded() -> None:
    body = "Para. ^p1\n\n- item ^li\n\n> quote\n\n^after\n"
    parsed = parse_body(body, path="n.md", body_line=1)
    assert parsed.block_ids == ("p1", "li", "after")
    html = render_body(body, PlainHooks(), path="n.md", body_line=1).html
    assert "^p1" not in html and '<blockquote id="block-after">' in html


def test_cells_options_and_lines() -> None:
    body = (
        "text\n\n```{python} extra\n#| label: fig-x\n#| fig-cap: A cap\n"
        "#| depends: [a.py, b.py]\n#| timeout: 5\nprint(1)\n```\n\n"
        "```python\nx = 1\n```\n\n```python\n#| exec: true\ny\n```\n"
    )
    cells = parse_body(body, path="n.md", body_line=20).cells
    assert [(c.index, c.line, c.code) for c in cells] == [(0, 22, "print(1)\n"), (1, 34, "y\n")]
    assert cells[0].options == {
        "label": "fig-x",
        "fig-cap": "A cap",
        "depends": ["a.py", "b.py"],
        "timeout": 5,
    }


@pytest.mark.timeout(60)  # it never ended before the limit
def test_a_cell_option_whose_aliases_expand_without_end_stays_text() -> None:
    lists = ['&a ["x","x","x","x","x","x","x","x","x"]']
    lists += [
        f"&{n} [" + ",".join([f"*{p}"] * 9) + "]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    bomb = "[" + ", ".join(lists) + "]"  # 9 ** 9 values once expanded
    body = f"```{{python}}\n#| label: fig-x\n#| extra: {bomb}\n#| keep: &k [1, *k]\nx\n```\n"
    (cell,) = parse_body(body, path="n.md", body_line=1).cells
    assert cell.options == {"label": "fig-x", "extra": bomb, "keep": "&k [1, *k]"}
    assert cell.code == "x\n"


def test_problems() -> None:
    assert codes("[[]] [[a|]]") == ["empty-link", "empty-link"]
    assert codes("[[https://x.org]]") == ["external-wikilink"]
    assert codes("text\n\n```python\nx = 1\n") == ["unclosed-fence"]
    assert codes("> ```\n> code\n> ```\n\n- ~~~\n  x\n  ~~~\n") == []
    parsed = parse_body("a\n\n```\ncode", path="d/n.md", body_line=7)
    (p,) = parsed.problems
    assert (p.file, p.line, p.code) == ("d/n.md", 9, "unclosed-fence")
    assert "external-wikilink" not in [x.code for x in parsed.problems]
    assert links("[[https://x.org]]") == []
    assert [x.target for x in links("[[Re:Zero]] [m](mailto:a@b.c) [o](obsidian://open)")] == [
        "Re:Zero"
    ]


def test_anchors() -> None:
    assert heading_anchor("Hello, World!") == "hello-world"
    assert heading_anchor("Ünïcode  title") == "ünïcode-title"
    assert heading_anchor("???") == "section"
    seen: dict[str, int] = {}
    assert [heading_anchor("A", seen) for _ in range(3)] == ["a", "a-1", "a-2"]
    assert block_anchor("^abc") == block_anchor("abc") == "block-abc"
    assert anchor_for_subpath("H1#Sub Part") == "sub-part"
    assert anchor_for_subpath("^blk") == "block-blk"


def test_render_toc_matches_headings() -> None:
    body = "## A\n\n## B\n"
    rendered = render_body(body, PlainHooks(), path="n.md", body_line=1)
    assert [h.anchor for h in rendered.toc] == ["a", "b"]


def test_exported_note_sample() -> None:
    body = (Path(__file__).parent.parent / "vaults" / "syntax" / "body.md").read_text("utf-8")
    parsed = parse_body(body, path="syntax/body.md", body_line=8)
    got = {(x.target, x.relation) for x in parsed.links}
    assert got == {
        ("Units", "links_to"),
        ("Potassium", "links_to"),
        ("Sodium", "links_to"),
        ("Action potential", "links_to"),
        ("Goldman equation", "links_to"),
        ("Cell membrane", "preceding"),
        ("Synapse", "following"),
        ("Hodgkin–Huxley model", "see_also"),
        ("Cable theory", "see_also"),
        ("Dendrites", "see_also"),
    }
    units = next(x for x in parsed.links if x.target == "Units")
    assert (units.subpath, units.display, units.line) == ("Voltage", "voltage units", 8 + 14)
    assert parsed.tags == ("neuro/biophysics", "membrane")
    assert parsed.block_ids == ("step-two",)
    assert [c.options["label"] for c in parsed.cells] == ["fig-nernst"]
    assert [h.text for h in parsed.headings] == ["Ion channels", "Related Topics"]
    assert parsed.problems == ()
    html = render_body(body, PlainHooks(), path="syntax/body.md", body_line=8).html
    assert html.count('<div class="math display">') == 2
    assert '<span class="math inline">X_i</span>' in html
    assert "Chloride" not in html and "TODO" not in html


def test_an_autolink_inside_a_link_is_its_text() -> None:
    html = render_body(
        "[<https://a.example>](https://b.example)", PlainHooks(), path="n.md", body_line=1
    ).html
    assert html == '<p><a href="https://b.example">https://a.example</a></p>\n'
    # A link to a note around one: the note link keeps all its text, and is recorded.
    body = "[see <https://a.example> here](Target.md)"
    assert render_body(body, PlainHooks(), path="n.md", body_line=1).html.count("<a ") == 1
    (link,) = links(body)
    assert (link.target, link.display) == ("Target.md", "see https://a.example here")
