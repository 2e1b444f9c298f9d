"""Property tests: parsing never raises and never reports links hidden in code/math/comments."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.vault.hooks import PlainHooks
from kgraph.vault.markdown import parse_body, render_body

FRAGMENTS = [
    "```",
    "```python\n",
    "```{python}\n",
    "#| exec: true\n",
    "~~~",
    "$",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "[[",
    "]]",
    "[[a|b]]",
    "![[x.png|20]]",
    "|",
    "\\|",
    "%%",
    "==",
    "#",
    "#tag",
    "##",
    "^id",
    " ^b1",
    "\n",
    "\n\n",
    " ",
    "  ",
    "\t",
    "a",
    "Word",
    ":",
    "::",
    "See also: ",
    "> ",
    "> [!note]- ",
    "- ",
    "1. ",
    "    ",
    "`",
    "*",
    "_",
    "<b>",
    "<T>",
    "<!--",
    "-->",
    "[x](y.md)",
    "](",
    "(",
    ")",
    "[",
    "]",
    "---",
    "| a | b |\n|---|---|\n",
    "&",
    "é",
    "🙂",
]
SLOW_OK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(body: str) -> None:
    parsed = parse_body(body, path="p.md", body_line=3)
    rendered = render_body(body, PlainHooks(), path="p.md", body_line=3)
    assert isinstance(rendered.html, str)
    last_line = 3 + body.count("\n")
    assert all(3 <= link.line <= last_line for link in parsed.links)
    assert all(3 <= p.line <= last_line for p in parsed.problems)


@given(st.text(max_size=300))
@settings(SLOW_OK, max_examples=150)
def test_never_raises_on_any_text(body: str) -> None:
    check(body)


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
@settings(SLOW_OK, max_examples=300)
def test_never_raises_on_markdown_fragments(body: str) -> None:
    check(body)


# blocks that hide a link (the target says where it was hidden) and blocks that show one
HIDDEN_BLOCKS = [
    "```\n[[{t}]]\n```",
    "~~~python\nx = '[[{t}]]'\n~~~",
    "<!-- [[{t}]] -->",
    "$$\n[[{t}]]\n$$",
    "\\[\n[[{t}]]\n\\]",
    "%%\n[[{t}]] #hidden\n%%",
]
HIDDEN_INLINE = ["`[[{t}]]`", "$[[{t}]]$", "\\([[{t}]]\\)", "%%[[{t}]]%%", "``a [[{t}]]``"]
SHOWN_BLOCKS = [
    "[[{t}]]",
    "- item [[{t}]]",
    "## Head [[{t}]]",
    "> quote [[{t}]]",
    "See also: [[{t}]]",
]
SHOWN_INLINE = ["[[{t}]]", "**[[{t}|b]]**", "_[[{t}]]_"]

block_piece = st.one_of(
    st.tuples(st.just("hidden"), st.sampled_from(HIDDEN_BLOCKS)),
    st.tuples(st.just("shown"), st.sampled_from(SHOWN_BLOCKS)),
).map(lambda piece: [piece])
inline_piece = st.one_of(
    st.tuples(st.just("hidden"), st.sampled_from(HIDDEN_INLINE)),
    st.tuples(st.just("shown"), st.sampled_from(SHOWN_INLINE)),
)
paragraph = st.lists(inline_piece, min_size=1, max_size=5)


@given(st.lists(st.one_of(block_piece, paragraph), min_size=1, max_size=8))
@SLOW_OK
def test_links_inside_code_math_comments_are_not_reported(
    blocks: list[list[tuple[str, str]]],
) -> None:
    texts: list[str] = []
    expected: list[tuple[str, int]] = []
    line = 1
    for b, block in enumerate(blocks):
        parts = []
        for p, (kind, template) in enumerate(block):
            target = f"{kind}-{b}-{p}"
            parts.append(template.format(t=target))
            if kind == "shown":
                expected.append((target, line))
        text = " x ".join(parts)
        texts.append(text)
        line += text.count("\n") + 2
    body = "\n\n".join(texts)
    found = [(x.target, x.line) for x in parse_body(body, path="p.md", body_line=1).links]
    assert found == expected
