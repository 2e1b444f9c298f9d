"""Typed relations: `Label: [[a]], [[b]]` lines and Dataview `key:: value` fields."""

from __future__ import annotations

import re

from kgraph.vault.frontmatter import snake_case

# the label may be bold or italic: `**See also:** [[x]]`, `*Next*: [[y]]`
_LINE = re.compile(
    r"[ \t]*[*_]{0,2}(?P<label>[^\W_][\w' -]{0,60}?)[ \t]*[*_]{0,2}[ \t]*"
    r"(?P<colon>::?)[*_]{0,2}(?P<rest>.*)"
)
_BRACKETED = re.compile(r"([\[(])[ \t]*([^\W_][\w -]{0,40}?)[ \t]*::")
_WIKI = re.compile(r"!?\[\[(?:[^\]\n]|\](?!\]))*\]\]")
_SEPARATORS = re.compile(r"(?:[\s,;]|and|&|\\)*(?:-{3,})?\s*", re.IGNORECASE)

Span = tuple[int, int, str]


def relation_name(label: str) -> str:
    """snake_case of a label, shared with frontmatter relations: `See also` -> `see_also`."""
    return snake_case(label)


def _is_label(label: str) -> bool:
    return 1 <= len(label.split()) <= 4


def _only_links(rest: str) -> bool:
    if "[[" not in rest:
        return False
    return _SEPARATORS.fullmatch(_WIKI.sub(" ", rest)) is not None


def relation_spans(content: str) -> list[Span]:
    """Character spans of `content` whose wikilinks carry a relation, with that relation."""
    spans: list[Span] = []
    if ":" not in content:
        return spans
    start = 0
    for line in content.split("\n"):
        end = start + len(line)
        if ":" in line and "[[" in line:
            m = _LINE.match(line)
            if m and _is_label(m.group("label")):
                name = relation_name(m.group("label"))
                if name and (m.group("colon") == "::" or _only_links(m.group("rest"))):
                    spans.append((start, end, name))
            if "::" in line:
                spans.extend(_bracketed(line, start))
        start = end + 1
    return spans


def _bracketed(line: str, base: int) -> list[Span]:
    """`[key:: value]` and `(key:: value)` fields inside a line."""
    spans: list[Span] = []
    closing = _matching_brackets(line)
    for m in _BRACKETED.finditer(line):
        end = closing.get(m.start())
        if end is not None:
            spans.append((base + m.start(), base + end + 1, relation_name(m.group(2))))
    return spans


def _matching_brackets(line: str) -> dict[int, int]:
    """Index of the matching `]`/`)` for every `[`/`(` of `line`, in one pass."""
    stacks: dict[str, list[int]] = {"[": [], "(": []}
    openers = {"]": "[", ")": "("}
    found: dict[int, int] = {}
    for i, ch in enumerate(line):
        if ch in stacks:
            stacks[ch].append(i)
        elif ch in openers and stacks[openers[ch]]:
            found[stacks[openers[ch]].pop()] = i
    return found


def relation_at(spans: list[Span], pos: int) -> str | None:
    """The relation of the innermost span holding `pos` (spans are few per paragraph)."""
    found: tuple[int, str] | None = None
    for lo, hi, name in spans:
        if lo <= pos < hi and (found is None or hi - lo < found[0]):
            found = (hi - lo, name)
    return found[1] if found else None
