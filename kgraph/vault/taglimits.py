"""How long and how deep a tag may be, in frontmatter and inline alike.

Each level of a nested tag is a folder of tag pages: `#a/a/a/...` thousands of levels
deep would make thousands of pages, and paths longer than any file system takes. A
longer or deeper tag is not a tag (inline, it stays text), as `#1984` is not.
"""

from __future__ import annotations

MAX_TAG_CHARS = 200
MAX_TAG_LEVELS = 16


def within_limits(tag: str) -> bool:
    """Whether the tag name `tag` (no `#`) is short and shallow enough to be a tag."""
    return len(tag) <= MAX_TAG_CHARS and tag.count("/") < MAX_TAG_LEVELS
