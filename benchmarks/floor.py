"""The floor a static-site build is compared against: the least work that makes a page per note.

Single process: read every note, `yaml.safe_load` its frontmatter, render the body with
plain `MarkdownIt("commonmark").enable("table")`, write one HTML file per note.
`python -m benchmarks.floor VAULT OUT` prints the wall time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml
from markdown_it import MarkdownIt


def floor_build(vault: Path, out: Path) -> int:
    md = MarkdownIt("commonmark").enable("table")
    count = 0
    for path in sorted(vault.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        meta: object = None
        body = text
        if text.startswith("---\n"):
            end = text.find("\n---", 4)
            if end > 0:
                meta = yaml.safe_load(text[4:end])
                body = text[end + 4 :]
        html = md.render(body)
        title = meta.get("title", path.stem) if isinstance(meta, dict) else path.stem
        dest = out / path.relative_to(vault).with_suffix(".html")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(f"<!doctype html><title>{title}</title>{html}", encoding="utf-8")
        count += 1
    return count


def main() -> None:
    vault, out = Path(sys.argv[1]), Path(sys.argv[2])
    t = time.perf_counter()
    n = floor_build(vault, out)
    print(f"floor: {n} notes in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
