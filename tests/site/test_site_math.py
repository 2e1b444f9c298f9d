"""Formulas become MathML; what cannot be converted is shown as source and reported."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kgraph.site.math import latex_to_mathml, math_html
from kgraph.site.output import SiteOutput


def test_inline_and_display_mathml() -> None:
    inline, ok = math_html("x^2", display=False)
    assert ok and inline.startswith('<span class="math inline"><math') and "<msup>" in inline
    block, ok = math_html(r"\frac{a}{b}", display=True)
    assert ok and 'display="block"' in block and "<mfrac>" in block


def test_bad_formulas_fail() -> None:
    for bad in (r"\frac{a}{b", r"\notacommand x", "}{", "  "):
        assert latex_to_mathml(bad, False) is None
    out, ok = math_html(r"\frac{a}{b", display=False)
    assert not ok and out == r'<code class="math-error">\frac{a}{b</code>'


def test_math_on_the_page(basic_site: tuple[Path, SiteOutput]) -> None:
    text = (basic_site[0] / "neuron/index.html").read_text("utf-8")
    assert text.count("<math ") >= 3
    assert '<code class="math-error">\\frac{a}{b</code>' in text
    errors = [p for p in basic_site[1].problems if p.code == "math-error"]
    assert [(p.file, p.line, p.severity) for p in errors] == [("Neuron.md", 17, "warning")]


@given(st.text(max_size=40), st.booleans())
def test_math_never_raises(latex: str, display: bool) -> None:
    out, ok = math_html(latex, display)
    assert ("<math" in out) if ok else ('class="math-error"' in out)
    if not ok:
        assert "<script" not in out.lower()
