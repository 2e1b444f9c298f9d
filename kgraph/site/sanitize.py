"""Sanitising rendered note HTML with nh3: keep structure, MathML and our own markup."""

from __future__ import annotations

import nh3

_HTML_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "u", "ul", "var", "wbr", "nav", "header", "footer", "article",
}  # fmt: skip

_MATHML_TAGS = {
    "math", "maction", "menclose", "merror", "mfenced", "mfrac", "mi", "mmultiscripts",
    "mn", "mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms",
    "mspace", "msqrt", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext",
    "mtr", "munder", "munderover", "semantics", "annotation", "none",
}  # fmt: skip

_MATHML_ATTRS = {
    "xmlns", "display", "mathvariant", "stretchy", "fence", "form", "separator",
    "columnalign", "columnspacing", "rowspacing", "rowalign", "columnlines", "rowlines",
    "frame", "linethickness", "lspace", "rspace", "width", "height", "depth", "accent",
    "accentunder", "movablelimits", "largeop", "symmetric", "minsize", "maxsize",
    "notation", "scriptlevel", "displaystyle", "open", "close", "separators", "encoding",
}  # fmt: skip

_COMMON_ATTRS = {"class", "id", "title", "lang", "dir", "role", "aria-label", "aria-hidden"}

_ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON_ATTRS,
    "a": {"href", "rel", "hreflang", "download"},
    "audio": {"src", "controls"},
    "video": {"src", "controls", "width", "height"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
    "input": {"type", "checked", "disabled"},
    "td": {"style", "colspan", "rowspan", "align"},
    "th": {"style", "colspan", "rowspan", "align", "scope"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "details": {"open"},
    "time": {"datetime"},
    "code": {"data-lang"},
    "pre": {"data-lang"},
    **{tag: _MATHML_ATTRS for tag in _MATHML_TAGS},
}


def sanitize_html(fragment: str) -> str:
    """Remove scripts, event handlers, unsafe URLs, frames and styles; keep the rest."""
    return nh3.clean(
        fragment,
        tags=_HTML_TAGS | _MATHML_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        generic_attribute_prefixes={"data-"},
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel=None,
        strip_comments=True,
    )
