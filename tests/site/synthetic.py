"""A synthetic vault of N linked notes, for measuring render speed and layout time."""

from __future__ import annotations

import random

from kgraph.vault.note import Note
from kgraph.vault.parse import parse_file


def synthetic_notes(n: int, seed: int = 3) -> tuple[list[Note], list[str]]:
    rng = random.Random(seed)
    notes: list[Note] = []
    files = [f"n{i}.md" for i in range(n)]
    for i in range(n):
        links = " ".join(f"[[n{rng.randrange(n)}]]" for _ in range(4))
        text = (
            f"---\ntitle: Note {i}\ntags: [t{i % 50}]\ndate: {1600000000 + i}\n---\n"
            f"Some text about note {i} with $x_{{{i}}}^2$ and links {links}.\n\n"
            f"## Part\n\nMore prose here.\n\nSee also: [[n{(i + 1) % n}]]\n"
        )
        found, _ = parse_file(text.encode(), files[i])
        notes.extend(found)
    return notes, files
