"""How much a loaded YAML value holds once its aliases are expanded.

An alias (`*name`) stands for the whole value its anchor names, so a few lines of YAML
can stand for billions of values (nine lists of nine aliases of the list before), or
for a list that holds itself. Loading shares the aliased value and is quick, but
anything that walks the result (normalising, hashing, writing JSON) never ends. Real
frontmatter, cell options and settings hold a few dozen values.
"""

from __future__ import annotations

from typing import Any

MAX_VALUES = 100_000


def too_big(value: Any, limit: int = MAX_VALUES) -> bool:
    """Whether `value`, every alias expanded, holds more than `limit` values (one that
    holds itself is endless, so too big)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return False


def may_alias(text: str) -> bool:
    """Whether YAML `text` can hold an alias at all (they are written `*name`)."""
    return "*" in text
