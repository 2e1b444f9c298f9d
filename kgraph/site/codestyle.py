"""The Pygments stylesheet for highlighted code, one palette per theme."""

from __future__ import annotations

import re
from functools import lru_cache

from pygments.formatters import HtmlFormatter

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
_BACKGROUND = re.compile(r"background(-color)?:\s*[^;}]+;?\s*")


def _rules(style: str, selectors: list[str]) -> list[str]:
    """Token rules of one Pygments style under `selectors`; page-wide rules are dropped."""
    css = HtmlFormatter(style=style).get_style_defs(selectors)
    out = []
    for line in css.splitlines():
        if not line.startswith(selectors[0]) or " .hll" in line.split("{")[0]:
            continue  # `pre`, line-number and highlighted-line rules would leak onto the page
        if "{" in line and line.split("{")[0].strip().rstrip(",").endswith(".highlight"):
            line = _BACKGROUND.sub("", line)  # the theme's own code background stays
        out.append(line)
    return out


@lru_cache(maxsize=1)
def pygments_css() -> str:
    """Light rules, dark rules for the toggle, and dark rules for a dark system theme."""
    light = _rules(LIGHT_STYLE, [".highlight"])
    dark = _rules(DARK_STYLE, [':root[data-theme="dark"] .highlight'])
    system = _rules(DARK_STYLE, [':root:not([data-theme="light"]) .highlight'])
    return "\n".join(
        [
            f"/* Pygments '{LIGHT_STYLE}' (light) and '{DARK_STYLE}' (dark). */",
            *light,
            *dark,
            "@media (prefers-color-scheme: dark) {",
            *system,
            "}",
            "",
        ]
    )
