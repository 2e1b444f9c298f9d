"""Writing the rendered site: only changed files are touched, stale ones are removed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kgraph.site.output import SiteOutput

# Files other tools own inside the output folder (the search index is rebuilt after writing).
_KEEP_PREFIXES = ("pagefind/",)


@dataclass(frozen=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int


def _inside(out_dir: Path, rel: str) -> Path | None:
    target = (out_dir / rel).resolve()
    root = out_dir.resolve()
    return target if target.is_relative_to(root) and target != root else None


def _same_file(dest: Path, src: Path) -> bool:
    try:
        a, b = dest.stat(), src.stat()
    except OSError:
        return False
    if a.st_size != b.st_size:
        return False
    return dest.read_bytes() == src.read_bytes()


def _write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".kgraph-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def write_site(output: SiteOutput, out_dir: Path) -> WriteStats:
    """Write `output` into `out_dir`, skipping identical files and removing stale ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = unchanged = removed = 0
    wanted: set[str] = set()
    for rel, data in sorted(output.files.items()):
        dest = _inside(out_dir, rel)
        if dest is None:
            continue
        wanted.add(rel)
        if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
            unchanged += 1
            continue
        _write_atomic(dest, data)
        written += 1
    for rel, src in sorted(output.copies.items()):
        dest = _inside(out_dir, rel)
        if dest is None or rel in wanted or not src.is_file():
            continue
        wanted.add(rel)
        if _same_file(dest, src):
            unchanged += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".kgraph-tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        written += 1
    for path in sorted(out_dir.rglob("*"), reverse=True):
        rel = path.relative_to(out_dir).as_posix()
        if rel.startswith(_KEEP_PREFIXES) or rel == "pagefind":
            continue
        if path.is_file() or path.is_symlink():
            if rel not in wanted:
                path.unlink()
                removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return WriteStats(written=written, unchanged=unchanged, removed=removed)
