"""What rendering the site produces, before anything is written."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.problems import Problem


@dataclass(frozen=True)
class SiteOutput:
    """Rendered files, files to copy, problems, and per page the concept keys it shows."""

    files: Mapping[str, bytes]
    copies: dict[str, Path]
    problems: tuple[Problem, ...]
    dependencies: dict[str, frozenset[str]] = field(default_factory=dict)
    # Problems found while rendering each page, so a build that skips a page can still report them.
    page_problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    # Per part of the index pages rendered (`INDEX_PARTS`), the files and copies it made.
    index_files: dict[str, frozenset[str]] = field(default_factory=dict)
    # Per concept page, a digest of the local graph it drew (`SiteRenderer.local_digest`).
    local_graphs: dict[str, str] = field(default_factory=dict)


class PackedFiles(Mapping[str, bytes]):
    """Rendered files held zlib-compressed and inflated on each read.

    A 10,000-page site is about 450 MB of HTML; compressed, the whole of it stays in
    memory between rendering and writing for a sixth of that, and crosses from the
    render workers to the writer faster.
    """

    def __init__(self, packed: Mapping[str, bytes]) -> None:
        self._packed = dict(packed)

    @property
    def packed(self) -> dict[str, bytes]:
        return self._packed

    @staticmethod
    def pack(files: Mapping[str, bytes]) -> dict[str, bytes]:
        return {rel: zlib.compress(data, 1) for rel, data in files.items()}

    def __getitem__(self, rel: str) -> bytes:
        return zlib.decompress(self._packed[rel])

    def __contains__(self, rel: object) -> bool:
        return rel in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


class StagedFiles(Mapping[str, bytes]):
    """Rendered files already written under `root`, read back on each access.

    A cold command-line build has no published site to compare with: its render workers
    write the pages straight into the folder that will become the site, so no page
    crosses between processes or waits in memory (see `publish.rendering_folder`).
    """

    def __init__(self, root: Path, names: Iterable[str]) -> None:
        self.root = root
        self._names = sorted(set(names))
        self._known = set(self._names)

    @staticmethod
    def write(root: Path, files: Mapping[str, bytes]) -> list[str]:
        """Write `files` under `root` (folders made as needed); return their names."""
        made: set[str] = set()
        base = str(root)
        names: list[str] = []
        for rel, data in files.items():
            parts = rel.split("/")
            if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
                continue  # never outside `root` (publish skips such names too)
            names.append(rel)
            folder = rel.rpartition("/")[0]
            if folder and folder not in made:
                os.makedirs(os.path.join(base, folder), exist_ok=True)
                made.add(folder)
            with open(os.path.join(base, rel), "wb") as fh:
                fh.write(data)
        return names

    def __getitem__(self, rel: str) -> bytes:
        if rel not in self._known:
            raise KeyError(rel)
        with open(self.root / rel, "rb") as fh:
            return fh.read()

    def __contains__(self, rel: object) -> bool:
        return rel in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
