"""The fast body scanner: either no answer or exactly the markdown-it answer, and used often."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.utils import read_fixture_file
from mdgrammar import DOCUMENT, ORDINARY, switched_off, synthetic_bodies, vault_bodies

from kgraph.vault import fastscan
from kgraph.vault.fastscan import _context_at, fast_parse_body
from kgraph.vault.markdown import ParsedBody, _context, parse_body
from kgraph.vault.note import Link

FIXTURES = Path(__file__).parent / "fixtures"


def oracle(body: str, path: str = "n.md", body_line: int = 1) -> ParsedBody:
    """What the markdown-it parser says, with the fast path switched off."""
    with switched_off("KGRAPH_NO_FASTSCAN"):
        return parse_body(body, path=path, body_line=body_line)


def agrees(body: str, path: str = "n.md", body_line: int = 1) -> ParsedBody | None:
    """Assert the fast scan is silent or exact; return its answer."""
    fast = fast_parse_body(body, path=path, body_line=body_line)
    if fast is not None:
        assert fast == oracle(body, path, body_line), body
    return fast


# ---- (1) differential over every body we have ----------------------------------------


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.md")), ids=lambda p: p.stem)
def test_fixture_inputs_agree(fixture: Path) -> None:
    cases = list(read_fixture_file(fixture))
    assert cases
    for _line, _title, text, _expected in cases:
        agrees(text)


def test_vault_and_sample_bodies_agree() -> None:
    bodies = vault_bodies()
    assert len(bodies) > 50
    taken = sum(agrees(body, path, line) is not None for body, path, line in bodies)
    # the sample vault and test vaults are mostly ordinary notes
    assert taken >= len(bodies) * 0.7


def test_synthetic_notes_agree_and_take_the_fast_path() -> None:
    bodies = synthetic_bodies(300)
    results = [agrees(body, "syn.md", 12) for body in bodies]
    assert all(r is not None for r in results)
    assert sum(len(r.links) for r in results if r is not None) > 1000


# ---- (2) property: documents from a grammar of fragments -----------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT, st.integers(1, 40))
def test_grammar_documents_agree(body: str, body_line: int) -> None:
    agrees(body, "g.md", body_line)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ORDINARY, st.integers(1, 40))
def test_ordinary_documents_agree(body: str, body_line: int) -> None:
    agrees(body, "o.md", body_line)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_never_raises_and_agrees(body: str) -> None:
    agrees(body)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.text(st.sampled_from(list("ab .!?\n,")), max_size=400),
        st.text(st.sampled_from(list("ab ., ")), max_size=400),
    ),
    st.data(),
)
def test_context_matches_the_reference(plain: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(plain)))
    simple = not ("\n" in plain or "!" in plain or "?" in plain or "  " in plain)
    assert _context_at(plain, offset, simple) == _context(plain, offset)
    assert _context_at(plain, offset) == _context(plain, offset)


# ---- (3) the fast path is taken for ordinary notes -----------------------------------

TYPICAL = [
    "Plain prose with a [[Link]] and a #tag.\n",
    "### Heading one\n\nText about [[A|the a]] and [[B#Part]].\n\n### Heading one\n",
    "- item [[x]]\n- item two\n  - nested [[y]]\n    continued line\n\n1. first\n2. second\n",
    "1. Step with math:\n   $$\n   a^2 + b^2\n   $$\n2. Next $x_1$ and \\(y_{ij}\\)\n",
    "Energy is\n$$\nE = mc^2\n$$\nso [[Einstein]] said.\n",
    "```python\nx = '[[not a link]]'\n```\n\n~~~\ncode\n~~~\n",
    "```{python}\n#| label: fig-a\n#| echo: false\nimport math\nprint(math.pi)\n```\n",
    "Text with `inline [[code]]` and ![[figure.png|200]] embed.\n",
    "See [the other](Other%20note.md#sec) note.\n",
    "---\n\npreceding: [[Prev]]  \nfollowing: [[Next]]\n\nSee also: [[C]]\n\nSee Also: [[d]]",
    "status:: draft [[Owner]]\n\nA paragraph that ends with an id ^para-1\n",
    "**See also:** [[Z]]\n\nIons like $Ca^{2+}$ and $Na^{+}$ matter.\n",
    "## Related Topics\n\n- [[One]]\n- [[Two]]\n- [[Three]]\n",
]


@pytest.mark.parametrize("body", TYPICAL, ids=range(len(TYPICAL)))
def test_typical_notes_take_the_fast_path(body: str) -> None:
    fast = agrees(body, "t.md", 5)
    assert fast is not None


TRICKY = [
    "key:: [[a]] **[m](n.md)**",
    "key:: [[a]] [m](n.md)",
    "key:: [[a]][m](n.md)",
    "key:: [[a]]\n[m](n.md)",
    "2. not one\nText\n3. lazy then a new item [[x]]\n",
    "Line one  \nline [[two]] after a hard break\n",
    "- a\n  - b [[x]]\n\n  more in a\n\nout [[y]]\n",
    "Costs 5$ and $x$2 and $a $ b$ [[z]]\n",
]


@pytest.mark.parametrize("body", TRICKY, ids=range(len(TRICKY)))
def test_tricky_notes_take_the_fast_path_and_agree(body: str) -> None:
    assert agrees(body, "k.md", 3) is not None


def test_fast_results_carry_real_facts() -> None:
    body = (
        "### Part\n\nSee also: [[Other|o]]\n\nTagged #Topic.\n\n"
        "```{python}\n#| label: f\nx = 1\n```\n"
    )
    fast = fast_parse_body(body, path="p.md", body_line=10)
    assert fast is not None
    assert fast.links == (
        Link("Other", 12, "see_also", None, "o", False, "wikilink", "See also: o"),
    )
    assert fast.tags == ("topic",)
    assert [(h.level, h.text, h.anchor, h.line) for h in fast.headings] == [(3, "Part", "part", 10)]
    assert [(c.index, c.code, c.options, c.line) for c in fast.cells] == [
        (0, "x = 1\n", {"label": "f"}, 16)
    ]


@pytest.mark.parametrize(
    "body",
    [
        "<div>html</div>\n",
        "Title\n---\n",
        "    indented code\n",
        "> quote\n",
        "Text %% hidden [[x]] %%\n",
        "a\tb\n",
        "[^1]: note\n",
        "| a | b |\n|---|---|\n| [[x\\|y]] | 2 |\n",
        "```\nnever closed\n",
        "```a|b\n|-|-|\n```\n",
        "# a | b\n|---|---|\n",
        "100. wide marker\n",
        "Text\n2. continues the paragraph\n",
    ],
)
def test_unsure_inputs_fall_back(body: str) -> None:
    assert fast_parse_body(body, path="u.md", body_line=1) is None


def test_parse_body_uses_the_fast_path_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "Prose with [[Link]].\n"
    calls: list[str] = []

    def spy(text: str, *, path: str, body_line: int) -> ParsedBody | None:
        calls.append(text)
        return None

    monkeypatch.setattr(fastscan, "fast_parse_body", spy)
    expected = oracle(body)
    monkeypatch.delenv("KGRAPH_NO_FASTSCAN", raising=False)
    assert parse_body(body, path="n.md", body_line=1) == expected
    assert calls == [body]
    monkeypatch.setenv("KGRAPH_NO_FASTSCAN", "1")
    assert parse_body(body, path="n.md", body_line=1) == expected
    assert calls == [body]


@pytest.mark.timeout(60)  # it never ended before the limit
def test_tags_too_long_or_too_deep_stay_text_on_both_paths() -> None:
    deepest = "a/" * 15 + "b"  # 16 levels: the deepest a tag may be
    longest = "c" * 200
    body = f"Kept #{deepest} #{longest} and #{'d/' * 16}e #{'f' * 201} #{'g/' * 3000}h.\n"
    parsed = oracle(body)
    assert parsed.tags == (deepest, longest)
    fast = agrees(body)
    assert fast is None or fast.tags == parsed.tags
