"""Pausing Python's cycle collector while building large acyclic structures.

Reading a vault allocates millions of small objects (notes, links, graph dicts) and
frees almost none; the collector would only rescan them, again and again. Pausing it
there saves about a third of building a 10,000-note graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Set by the command line: a process that ends after one build may keep what it read.
one_shot = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cycle collector for the block (nesting-safe); reference counting goes on.

    In a one-shot process what the block built is frozen as the collector resumes: the
    first collection would otherwise scan all of it (a third of a second after reading a
    10,000-note vault's parse cache), and it lives until exit anyway."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if one_shot:
                gc.freeze()
            gc.enable()


def keep_for_good() -> None:
    """In a one-shot process, move every object alive now out of the collector's sight:
    the vault and graph live until exit, and each later collection would rescan them."""
    if one_shot:
        gc.freeze()


_kept: list[object] = []


def keep_until_exit(*values: object) -> None:
    """In a one-shot process, hold `values` until the process ends: freeing a large graph
    object by object when the last reference goes takes a quarter of a second."""
    if one_shot:
        _kept.extend(values)
