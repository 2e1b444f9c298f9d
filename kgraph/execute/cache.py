"""On-disk cell results, content-addressed: `cells/<key[:2]>/<key>/result.json` + figure files.

Entries are written in a temporary folder and renamed into place, so an interrupted
build leaves either a whole entry or none. `last/` remembers, per cell position, the
key of its last good result, so a failure can still show the previous figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT = "result.json"


class CorruptEntry(Exception):
    """A cache entry that cannot be read back whole."""


@dataclass(frozen=True)
class StoredFigure:
    label: str
    caption: str
    svg: Path
    data: Path


@dataclass(frozen=True)
class StoredResult:
    """A good cell result as kept in the cache."""

    key: str
    stdout: str
    options: dict[str, Any]
    provenance: dict[str, Any]
    figures: tuple[StoredFigure, ...]


@dataclass(frozen=True)
class NewFigure:
    """A captured figure on its way into the cache."""

    label: str
    caption: str
    svg: str
    data: dict[str, Any]


def _write_text(path: Path, text: str) -> None:
    """Write a file via a temporary sibling and rename, so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CellCache:
    """The cell-result store under `cache_dir` (safe for several threads of one build)."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir).resolve() / "cells"

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, key: str) -> StoredResult | None:
        """The stored result for `key`, None if absent; raises CorruptEntry if unreadable."""
        folder = self.entry_dir(key)
        if not folder.exists():
            return None
        try:
            raw = json.loads((folder / RESULT).read_text(encoding="utf-8"))
            figures = []
            for item in raw["figures"]:
                svg, data = folder / str(item["svg"]), folder / str(item["data"])
                if not (svg.is_file() and data.is_file()):
                    raise CorruptEntry(f"missing figure file in {folder.name}")
                json.loads(data.read_text(encoding="utf-8"))
                figures.append(StoredFigure(str(item["label"]), str(item["caption"]), svg, data))
            return StoredResult(
                key=key,
                stdout=str(raw["stdout"]),
                options=dict(raw["options"]),
                provenance=dict(raw["provenance"]),
                figures=tuple(figures),
            )
        except CorruptEntry:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptEntry(f"{type(exc).__name__}: {exc}") from exc

    def discard(self, key: str) -> None:
        shutil.rmtree(self.entry_dir(key), ignore_errors=True)

    def store(
        self,
        key: str,
        *,
        stdout: str,
        options: dict[str, Any],
        provenance: dict[str, Any],
        figures: list[NewFigure],
    ) -> StoredResult:
        """Write a good result atomically and return it as it will load back."""
        final = self.entry_dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
        try:
            listed = []
            for n, figure in enumerate(figures, start=1):
                (tmp / f"fig-{n}.svg").write_text(figure.svg, encoding="utf-8")
                data = {"label": figure.label, "caption": figure.caption, **figure.data}
                (tmp / f"fig-{n}.json").write_text(
                    json.dumps(data, ensure_ascii=False, allow_nan=False), encoding="utf-8"
                )
                listed.append(
                    {
                        "label": figure.label,
                        "caption": figure.caption,
                        "svg": f"fig-{n}.svg",
                        "data": f"fig-{n}.json",
                    }
                )
            result = {
                "stdout": stdout,
                "options": options,
                "provenance": provenance,
                "figures": listed,
            }
            (tmp / RESULT).write_text(
                json.dumps(result, ensure_ascii=False, default=str, indent=1), encoding="utf-8"
            )
            if final.exists():
                try:
                    existing = self.load(key)
                except CorruptEntry:
                    existing = None
                if existing is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
                    return existing
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.replace(tmp, final)
            except OSError:
                # another writer got there first with the same content-addressed entry
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        stored = self.load(key)
        if stored is None:
            raise CorruptEntry(f"entry {key} vanished after writing")
        return stored

    def _pointer(self, note_id: str, index: int) -> Path:
        name = hashlib.sha256(f"{note_id}\0{index}".encode()).hexdigest()
        return self.root / "last" / name[:2] / f"{name}.json"

    def last_good(self, note_id: str, index: int) -> str | None:
        """Key of the last good result of this cell position, if any."""
        try:
            raw = json.loads(self._pointer(note_id, index).read_text(encoding="utf-8"))
            return str(raw["key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def set_last_good(self, note_id: str, index: int, key: str) -> None:
        _write_text(self._pointer(note_id, index), json.dumps({"key": key}))
