"""Benchmark the body parser with and without the fast scanner.

`python -m benchmarks.bench_parse [VAULT] [--notes 1000]`
Reads every note of VAULT (generated under benchmarks/out/ when not given), then prints
µs/note for `parse_body` through markdown-it only, through the fast path with fallback, and
for the fast scan alone on the notes it accepts, plus the share of notes it accepts.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.generate_vault import generate
from kgraph.vault import markdown
from kgraph.vault.fastscan import fast_parse_body
from kgraph.vault.source import read_notes

OUT = Path(__file__).parent / "out"

Body = tuple[str, str, int]


def read_bodies(vault: Path) -> list[Body]:
    """(body, path, body line) of every note in the vault."""
    bodies: list[Body] = []
    for file in sorted(vault.rglob("*.md")):
        notes, _ = read_notes(file.read_bytes(), file.relative_to(vault).as_posix())
        bodies.extend((n.body, n.path, n.body_line) for n in notes)
    return bodies


def per_note(bodies: list[Body], *, fast: bool) -> float:
    """Mean µs per note of `parse_body`, on fresh text so its small cache cannot help."""
    fresh = [(body + "\n", path, line) for body, path, line in bodies]
    if fast:
        os.environ.pop("KGRAPH_NO_FASTSCAN", None)
    else:
        os.environ["KGRAPH_NO_FASTSCAN"] = "1"
    try:
        start = time.perf_counter()
        for body, path, line in fresh:
            markdown.parse_body(body, path=path, body_line=line)
        return (time.perf_counter() - start) / len(fresh) * 1e6
    finally:
        os.environ.pop("KGRAPH_NO_FASTSCAN", None)


def fast_only(bodies: list[Body]) -> tuple[float, float]:
    """Share of notes the fast scan accepts, and its mean µs on those, in one cold pass."""
    accepted = 0
    took = 0.0
    clock = time.perf_counter
    for body, path, line in bodies:
        start = clock()
        result = fast_parse_body(body, path=path, body_line=line)
        spent = clock() - start
        if result is not None:
            accepted += 1
            took += spent
    if not accepted:
        return 0.0, 0.0
    return accepted / len(bodies), took / accepted * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path, nargs="?")
    parser.add_argument("--notes", type=int, default=1000)
    args = parser.parse_args()
    vault = args.vault
    if vault is None:
        vault = OUT / f"parse-{args.notes}"
        if not vault.exists():
            generate(vault, args.notes)
    bodies = read_bodies(vault)
    size = sum(len(b[0]) for b in bodies) / max(len(bodies), 1)
    print(f"{vault}: {len(bodies)} notes, {size / 1024:.1f} KB of body each")
    # the fast scan first, while its small caches are cold, as in a real load
    share, took = fast_only(bodies)
    print(f"markdown-it only   {per_note(bodies, fast=False):8.0f} µs/note")
    print(f"fast path + slow   {per_note(bodies, fast=True):8.0f} µs/note")
    print(f"fast scan alone    {took:8.0f} µs/note on the {share:.1%} of notes it accepts")


if __name__ == "__main__":
    main()
