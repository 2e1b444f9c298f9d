"""LaTeX to MathML on the server: no JavaScript, works offline."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert

from kgraph.site.sanitize import sanitize_html

# latex2mathml keeps unknown commands as `<mi>\name</mi>`: treat that as a failure.
_UNKNOWN_COMMAND = re.compile(r"<m[ion]>\\[A-Za-z]+</m[ion]>")
_ESCAPED_BRACE = re.compile(r"\\[{}]")


def _balanced(latex: str) -> bool:
    depth = 0
    for ch in _ESCAPED_BRACE.sub("", latex):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


@lru_cache(maxsize=4096)
def latex_to_mathml(latex: str, display: bool) -> str | None:
    """MathML for a formula, or None when it cannot be converted faithfully."""
    if not latex.strip() or not _balanced(latex):
        return None
    try:
        out = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # the converter raises many kinds of errors on bad input
        return None
    if _UNKNOWN_COMMAND.search(out):
        return None
    # latex2mathml copies `\text{...}` through unescaped; bodies without raw HTML skip
    # the page sanitiser, so each formula is sanitised here (once: this is cached).
    return sanitize_html(out)


def math_html(latex: str, display: bool) -> tuple[str, bool]:
    """HTML for a formula and whether it converted; failures show source in `code.math-error`."""
    mathml = latex_to_mathml(latex, display)
    if mathml is None:
        src = html.escape(latex)
        if display:
            return f'<pre class="math-error"><code class="math-error">{src}</code></pre>', False
        return f'<code class="math-error">{src}</code>', False
    if display:
        return f'<div class="math display">{mathml}</div>', True
    return f'<span class="math inline">{mathml}</span>', True
