"""Block ids ` ^id`: at the end of a paragraph or list item, or alone after a block."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_AT_END = re.compile(r"(?:^|[ \t])\^([A-Za-z0-9-]+)[ \t]*$", re.MULTILINE)


def block_anchor(block_id: str) -> str:
    """The element id a block gets: `^abc` (or `abc`) -> `block-abc`."""
    return "block-" + block_id.lstrip("^")


def _matching_open(tokens: list[Token], close_idx: int) -> Token | None:
    """The opening token of the block that ends at `close_idx`."""
    close = tokens[close_idx]
    if close.nesting == 0:
        return close
    depth = 0
    for j in range(close_idx, -1, -1):
        depth += tokens[j].nesting
        if depth == 0:
            return tokens[j]
    return None


def _block_ids(state: StateCore) -> None:
    tokens = state.tokens
    found: list[str] = state.env.setdefault("kg_block_ids", [])
    for i, inline in enumerate(tokens):
        if inline.type != "inline" or i == 0 or tokens[i - 1].type != "paragraph_open":
            continue
        content = inline.content
        if "^" not in content:
            continue
        cut = content.rfind("\n") + 1
        m = _AT_END.search(content, cut)
        if not m:
            continue
        block_id = m.group(1)
        para = tokens[i - 1]
        holder: Token | None = para
        if m.start() == 0 and cut == 0 and i >= 2:
            # an id alone in its paragraph names the block before it (a heading keeps its own id)
            holder = _matching_open(tokens, i - 2)
            if holder is not None and holder.type == "heading_open":
                holder = para
            else:
                para.hidden = tokens[i + 1].hidden = True
        elif i >= 2 and tokens[i - 2].type == "list_item_open":
            holder = tokens[i - 2]
        if holder is None or holder.type.endswith("_close") or holder.type == "inline":
            continue
        found.append(block_id)
        holder.attrSet("id", block_anchor(block_id))
        inline.content = content[: m.start()].rstrip()


def blockids_plugin(md: MarkdownIt) -> None:
    """Strip ` ^id` markers before inline parsing and put the anchor on the block."""
    md.core.ruler.before("inline", "block_ids", _block_ids)
