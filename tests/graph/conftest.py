"""Graph test helpers: `make_note` and `graph_of` live in graphnotes.py (a unique module name)."""

from __future__ import annotations

from graphnotes import graph_of, make_note

__all__ = ["graph_of", "make_note"]
