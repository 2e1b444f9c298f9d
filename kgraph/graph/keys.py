"""Concept names: normalised keys, loose keys, URL slugs, and which concept each note is.

Identity rules (DESIGN §3):
- A note's name is its frontmatter `title`, else its file stem; its key is `concept_key(name)`.
- Notes whose names share a key are one concept. This includes a titled note and an untitled
  file whose stem equals the title: both name the same thing, so they merge.
- Untitled notes in *different files* whose stems collide (`a/index.md`, `b/index.md`) stay
  distinct: each gets the key of its path without extension (`a/index`, `b/index`), as in
  Obsidian where the file is the name. A titled note with that stem does not make them merge.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from kgraph.vault.note import Note

_SPACE = re.compile(r"\s+")
_LOOSE = re.compile(r"[\s_\-]+")
# Characters that are unsafe or meaningful in URLs and file names.
_SLUG_DROP = re.compile(r"[^\w]+", re.UNICODE)


def concept_key(name: str) -> str:
    """NFC, casefold, whitespace collapsed, stripped."""
    text = unicodedata.normalize("NFC", name).casefold()
    return _SPACE.sub(" ", text).strip()


def loose_key(name: str) -> str:
    """`concept_key` with `_`, `-` and whitespace runs all equivalent to one space."""
    return _LOOSE.sub(" ", concept_key(name)).strip()


def fold(text: str) -> str:
    """Case- and normalisation-insensitive form of a path or name (no whitespace change)."""
    return unicodedata.normalize("NFC", text).casefold()


def _ascii_fold(char: str) -> str:
    # Latin letters with accents become plain ASCII; CJK and other scripts stay as they are.
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base if base.isascii() and base else char


def slugify(key: str) -> str:
    """A stable URL slug: lower-case, ASCII where possible, CJK kept, no `/`, `?`, `#`."""
    text = concept_key(key)
    if not text.isascii():  # most names are ASCII: skip the per-character folding
        text = "".join(_ascii_fold(c) for c in text).lower()
    text = _SLUG_DROP.sub("-", text).replace("_", "-")
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text or "concept"


def stem_of(path: str) -> str:
    """File name without its last extension."""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def path_key(path: str) -> str:
    """Key of an untitled note disambiguated by folder: its path without extension."""
    folder, _, _ = path.rpartition("/")
    stem = stem_of(path)
    return concept_key(f"{folder}/{stem}" if folder else stem)


def assign_keys(notes: Sequence[Note]) -> list[str]:
    """The concept key of each note, in input order (rules in the module docstring)."""
    untitled_paths: dict[str, set[str]] = defaultdict(set)
    for note in notes:
        if not note.titled:
            untitled_paths[concept_key(note.title or note.stem)].add(note.path)
    keys: list[str] = []
    for note in notes:
        name_key = concept_key(note.title or note.stem)
        if not note.titled and len(untitled_paths[name_key]) > 1:
            keys.append(path_key(note.path))
        else:
            keys.append(name_key or path_key(note.path))
    return keys
