"""The fast renderer: either no answer or exactly markdown-it's HTML and hook calls."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.utils import read_fixture_file
from mdgrammar import DOCUMENT, ORDINARY, ROOT, switched_off, synthetic_bodies, vault_bodies

from kgraph.config import Config
from kgraph.graph.build import build_graph
from kgraph.site.output import SiteOutput
from kgraph.site.render import render_site
from kgraph.vault import fastrender
from kgraph.vault.fastrender import Template, compile_body, fast_render_body
from kgraph.vault.hooks import PlainHooks
from kgraph.vault.markdown import RenderedBody, parse_body, render_body
from kgraph.vault.note import Cell, Link
from kgraph.vault.parse import parse_file

FIXTURES = Path(__file__).parent / "fixtures"


class Recording(PlainHooks):
    """PlainHooks that keep every call, to compare what each renderer asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def link(self, link: Link, text_html: str) -> str:
        self.calls.append(("link", link, text_html))
        return super().link(link, text_html)

    def embed(self, link: Link) -> str:
        self.calls.append(("embed", link))
        return super().embed(link)

    def math(self, latex: str, display: bool, line: int) -> str:
        self.calls.append(("math", latex, display, line))
        return super().math(latex, display, line)

    def cell(self, cell: Cell) -> str:
        self.calls.append(("cell", cell))
        return super().cell(cell)

    def of(self, kind: str) -> list[tuple[object, ...]]:
        return [c for c in self.calls if c[0] == kind]


def _no_fastrender() -> AbstractContextManager[None]:
    return switched_off("KGRAPH_NO_FASTRENDER")


def _no_fastscan() -> AbstractContextManager[None]:
    return switched_off("KGRAPH_NO_FASTSCAN")


def oracle(body: str, path: str, body_line: int) -> tuple[RenderedBody, Recording]:
    """markdown-it's rendering, with the fast path switched off."""
    hooks = Recording()
    with _no_fastrender():
        return render_body(body, hooks, path=path, body_line=body_line), hooks


def agrees(body: str, path: str = "n.md", body_line: int = 1) -> RenderedBody | None:
    """Assert the fast renderer is silent or exact; return its answer."""
    hooks = Recording()
    fast = fast_render_body(body, hooks, path=path, body_line=body_line)
    if fast is None:
        return None
    slow, expected = oracle(body, path, body_line)
    assert fast.html == slow.html, body
    assert fast.toc == slow.toc, body
    assert fast.raw == slow.raw, body
    assert hooks.calls == expected.calls, body  # the same hook calls, in the same order
    # the form a build keeps between reading and rendering gives the same again
    compiled_once = compile_body(body, body_line)
    assert compiled_once is not None
    note = SimpleNamespace(
        links=compiled_once.links, cells=compiled_once.cells, headings=compiled_once.headings
    )
    kept = Template.of(compiled_once).fill(Recording(), note)  # type: ignore[arg-type]
    assert kept is not None and kept.html == slow.html and kept.toc == slow.toc, body
    # what the body compiles to also carries exactly what parsing it finds
    compiled = compile_body(body, body_line)
    assert compiled is not None
    with _no_fastrender(), _no_fastscan():
        assert compiled.parsed() == parse_body(body, path=path, body_line=body_line), body
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
    # embeds, block ids and callouts are left to markdown-it; most notes still qualify
    assert taken >= len(bodies) * 0.5


def test_synthetic_notes_agree_and_take_the_fast_path() -> None:
    bodies = synthetic_bodies(300)
    results = [agrees(body, "syn.md", 12) for body in bodies]
    assert all(r is not None for r in results)
    assert sum(r.html.count('class="internal"') for r in results if r is not None) > 1000


# ---- (2) property: documents from a grammar of fragments -----------------------------


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT, st.integers(1, 40))
def test_grammar_documents_agree(body: str, body_line: int) -> None:
    agrees(body, "g.md", body_line)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ORDINARY, st.integers(1, 40))
def test_ordinary_documents_agree(body: str, body_line: int) -> None:
    agrees(body, "o.md", body_line)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_never_raises_and_agrees(body: str) -> None:
    agrees(body)


LIST_LINE = st.tuples(
    st.sampled_from(["- ", "* ", "+ ", "1. ", "2. ", "3) ", " - ", "  ", "   - ", "", "-  "]),
    st.sampled_from(["item [[a]]", "text **b** c", "$x$ and `y`", "plain", "#tag here"]),
).map("".join)


LIST_BLOCK = st.one_of(LIST_LINE, st.sampled_from(["", "## H", "---", "$$\nx\n$$", "Para"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(LIST_BLOCK, max_size=9))
def test_list_shapes_agree(lines: list[str]) -> None:
    agrees("\n".join(lines))


# ---- (3) the fast path is taken for ordinary notes -----------------------------------

TYPICAL = [
    "Plain prose with a [[Link]] and a #tag.\n",
    "### Heading one\n\nText about [[A|the a]] and [[B#Part]].\n\n### Heading one\n",
    "- item [[x]]\n- item two\n  continued line\n\n1. first\n2. second\n\n4) four\n5) five\n",
    "Energy is\n$$\nE = mc^2\n$$\nso [[Einstein]] said. And $$a+b$$ too.\n\n$$ x^2 $$\n",
    "```python\nx = '[[not a link]]'\n```\n\n~~~\ncode\n~~~\n",
    "```{python}\n#| label: fig-a\n#| echo: false\nimport math\nprint(math.pi)\n```\n",
    'Text with `inline [[code]]` and \\(y_{ij}\\) and $Ca^{2+}$ "quoted" > 3.\n',
    "See [the other](Other%20note.md#sec) note.\n",
    "---\n\npreceding: [[Prev]]  \nfollowing: [[Next]]\n\nSee also: [[C]]\n\nSee Also: [[d]]",
    "**See also:** [[Z]]\n\nIons like $Ca^{2+}$ and $Na^{+}$ matter.\n",
    "## Related Topics\n\n- [[One]]\n- [[Two]]\n* [[Three]]\n",
    "A paragraph\n- interrupted by a list\n\n# Top\n\n1. one\n2. two\ntext after\n",
]


@pytest.mark.parametrize("body", TYPICAL, ids=range(len(TYPICAL)))
def test_typical_notes_take_the_fast_path(body: str) -> None:
    assert agrees(body, "t.md", 5) is not None


FOUND = [  # inputs the property tests once caught disagreeing
    "See also: [[a]]\n    ```\n    alpha\n    ```\n",
    "- item `a\n      b` c\n- two\n",
    "$x_1$\n",
]


@pytest.mark.parametrize("body", FOUND, ids=range(len(FOUND)))
def test_inputs_found_by_the_property_tests_agree(body: str) -> None:
    assert agrees(body, "f.md", 2) is not None


def test_fast_html_carries_the_hooks_answers() -> None:
    body = (
        "### Part\n\nSee also: [[Other|o]]\n\nThen a & b.\n\n- one $x$\n- two\n\n"
        "```{python}\n#| label: f\nx = 1\n```\n"
    )
    hooks = Recording()
    fast = fast_render_body(body, hooks, path="p.md", body_line=10)
    assert fast is not None
    assert fast.html == (
        '<h3 id="part">Part</h3>\n'
        '<p>See also: <a class="internal" href="Other.html">o</a></p>\n'
        "<p>Then a &amp; b.</p>\n"
        '<ul>\n<li>one <span class="math inline">x</span></li>\n<li>two</li>\n</ul>\n'
        '<pre class="cell"><code>x = 1\n</code></pre>\n'
    )
    link = Link("Other", 12, "see_also", None, "o", False, "wikilink", "See also: o")
    assert hooks.calls == [
        ("link", link, "o"),
        ("math", "x", False, 0),
        ("cell", Cell(0, "x = 1\n", {"label": "f"}, 19)),
    ]
    assert [(h.text, h.anchor, h.line) for h in fast.toc] == [("Part", "part", 10)]


@pytest.mark.parametrize(
    "body",
    [
        "Text with ![[embedded note]]\n",
        "A paragraph with an id ^para-1\n",
        "- loose\n\n- list\n",
        "- outer\n  - nested\n",
        "- item\n\n  second paragraph\n",
        "[[https://example.org]] external\n",
        "[site](https://example.org)\n",
        "Title\n---\n",
        "    indented code\n",
        "> quote\n",
        "<div>html</div>\n",
        "```\nnever closed\n",
        "$$\nx\n\ny\n$$\n",
        "$$ a $$ (1)\n",
    ],
)
def test_unhandled_inputs_fall_back(body: str) -> None:
    assert fast_render_body(body, PlainHooks(), path="u.md", body_line=1) is None
    # and the full renderer still renders them
    assert oracle(body, "u.md", 1)[0].html


def test_render_body_uses_the_fast_path_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "Prose with [[Link]].\n"
    calls: list[str] = []

    def spy(text: str, hooks: object, *, path: str, body_line: int) -> RenderedBody | None:
        calls.append(text)
        return None

    monkeypatch.setattr(fastrender, "fast_render_body", spy)
    expected = oracle(body, "n.md", 1)[0]
    monkeypatch.delenv("KGRAPH_NO_FASTRENDER", raising=False)
    assert render_body(body, PlainHooks(), path="n.md", body_line=1) == expected
    assert calls == [body]
    monkeypatch.setenv("KGRAPH_NO_FASTRENDER", "1")
    assert render_body(body, PlainHooks(), path="n.md", body_line=1) == expected
    assert calls == [body]


def _render_site(vault: Path, out: Path) -> SiteOutput:
    notes = []
    files = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*") if p.is_file())
    for rel in files:
        if rel.endswith(".md"):
            notes.extend(parse_file((vault / rel).read_bytes(), rel)[0])
    return render_site(build_graph(notes, files), Config(vault=vault, out=out), cells=None)


@pytest.mark.parametrize("vault", ["notes", "tests/vaults/site/features"])
def test_sites_are_the_same_either_way(vault: str, tmp_path: Path) -> None:
    """The site's own hooks (link resolution, MathML, figures) see no difference."""
    fast = _render_site(ROOT / vault, tmp_path / "fast")
    with _no_fastrender():
        slow = _render_site(ROOT / vault, tmp_path / "slow")
    assert sorted(fast.files) == sorted(slow.files)
    differing = [name for name in fast.files if fast.files[name] != slow.files[name]]
    assert differing == []
    assert fast.problems == slow.problems


def test_a_kept_body_fills_in_the_notes_own_links_after_its_frontmatter_links() -> None:
    text = (
        '---\ntitle: T\nup: "[[Parent]]"\n---\n\nBody with [[Child|c]] and $x$.\n\n'
        "```{python}\n#| label: f\nx = 1\n```\n"
    )
    compiled: dict[object, object] = {}
    notes, _ = parse_file(text.encode(), "t.md", compiled)
    (note,) = notes
    assert [link.target for link in note.links] == ["Parent", "Child"]
    template = compiled[(note.path, note.body_line)]
    assert isinstance(template, Template)
    hooks = Recording()
    kept = template.fill(hooks, note)
    slow, expected = oracle(note.body, note.path, note.body_line)
    assert kept is not None and kept.html == slow.html and hooks.calls == expected.calls
    assert kept.toc == note.headings
    # a note that does not match its template is not filled from it
    other = SimpleNamespace(links=(), cells=note.cells, headings=note.headings)
    assert template.fill(Recording(), other) is None  # type: ignore[arg-type]
