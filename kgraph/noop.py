"""Recognising a build with nothing to do, before reading a single note.

A build's inputs are the vault's files, the settings, the templates and assets, and the
versions of kgraph, Python, numpy and matplotlib. After each build, a digest of them
(file paths, sizes and mtimes; template bytes) is kept with the build's report. When the
next build finds the same digest and the published site still in place, the vault is
unchanged: it reports the same problems and writes nothing, in a fraction of a second.
A build whose cells failed is never skipped: they run again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kgraph.cache import vault_id
from kgraph.config import Config

KIND = "kgraph-last-build-v3"


def _versions() -> list[str]:
    """Python's version, and where numpy and matplotlib are installed and when.

    Installing another version rewrites a package's `__init__.py`, so its path, size and
    mtime change with the version; finding them costs a few stat calls, where asking
    `importlib.metadata` scans every installed distribution (a seventh of a second)."""
    found = [sys.version]
    for name in ("numpy", "matplotlib"):
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            st = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            st, origin = None, None
        found.append(f"{name} {origin} {st.st_size} {st.st_mtime_ns}" if st else f"{name} -")
    return found


def inputs_key(config: Config) -> tuple[str, str]:
    """Digest of everything a build reads (files by path, size and mtime), and the vault
    fingerprint alone (the key of the query snapshot the build leaves)."""
    from kgraph.incremental import global_key
    from kgraph.snapshot import fingerprint, settings_key

    vault = fingerprint(config.vault, config.ignore, settings_key(config))
    h = hashlib.blake2b(digest_size=16)
    for part in (
        vault,
        global_key(config, executed=config.execute),
        str(config.out.resolve()),
        json.dumps([config.cell_timeout, config.cell_memory_mb, _versions()], default=str),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest(), vault


def _caches(config: Config, pending: Mapping[Path, int] | None = None) -> list[str]:
    """Mtime and size of the build's own cache files: one changed by anything but a build
    (a damaged or replaced cache) must be read, checked and reported by a real build.

    `pending` names files a detached process is still writing, with the mtime it gives
    them: they are recorded by that mtime alone (`*` for the size not known yet)."""
    from kgraph.incremental import state_file

    folder = config.cache_dir / f"parse-{vault_id(config.vault)}"
    state = state_file(config.cache_dir, config.vault)
    stamps = {Path(p).name: ns for p, ns in (pending or {}).items()}
    names = {Path(p).name for p in pending or {} if Path(p).parent == folder}
    with contextlib.suppress(OSError):
        # Only the buckets: a writer's temporary file comes and goes.
        names.update(p.name for p in folder.iterdir() if p.suffix == ".pickle")
    paths = [state, *(folder / n for n in sorted(names))]
    found = []
    for path in paths:
        if path.name in stamps:
            found.append(f"{path.name} {stamps[path.name]} *")
            continue
        try:
            st = path.stat()
        except OSError:
            found.append(f"{path.name} -")
            continue
        found.append(f"{path.name} {st.st_mtime_ns} {st.st_size}")
    return found


def _same_caches(recorded: object, found: list[str]) -> bool:
    """Whether the cache files are as the last build left them (a `*` size, of a file
    written after the record, matches any size)."""
    if not isinstance(recorded, list) or len(recorded) != len(found):
        return False
    for want, have in zip(recorded, found, strict=True):
        if want != have and not (
            isinstance(want, str) and want.endswith(" *") and have.startswith(want[:-1])
        ):
            return False
    return True


def record_file(config: Config) -> Path:
    """The last build's record: its inputs' digest, caches and report."""
    return config.cache_dir / f"last-build-{vault_id(config.vault)}.json"


def unchanged_report(config: Config, key: str) -> dict[str, Any] | None:
    """The last build's report, as a build that changed nothing reports it; or None when
    something changed (or the last build is unknown, or its cells failed)."""
    from kgraph.publish import MARKER

    try:
        saved = json.loads(record_file(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("kind") != KIND or saved.get("key") != key:
        return None
    from kgraph.build import failures_file

    if failures_file(config).exists():
        return None  # the last build's writer failed: a real build says so and redoes it
    from kgraph.incremental import state_file
    from kgraph.statefile import await_state

    # The last build's page state may still be on its way (`kgraph.statefile`).
    await_state(state_file(config.cache_dir, config.vault))
    if not _same_caches(saved.get("caches"), _caches(config)):
        return None
    report = saved.get("report")
    if not isinstance(report, dict) or not (config.out / MARKER).is_file():
        return None
    try:
        cells, pages = report["cells"], report["pages"]
        if cells["failed"]:
            return None
        total = pages["written"] + pages["unchanged"]
        ran = cells["executed"] + cells["cached"]
        report["cells"] = {"executed": 0, "cached": ran, "failed": 0}
        report["pages"] = {"written": 0, "unchanged": total, "removed": 0, "rendered": 0}
        # What the last build's own writer failed to save was told once, by that build.
        report["warnings"] = [w for w in report["warnings"] if w.get("code") != "cache-unsaved"]
    except (KeyError, TypeError, AttributeError):
        return None
    return report


def remember(
    config: Config, key: str, report: dict[str, Any], pending: Mapping[Path, int] | None = None
) -> None:
    """Keep the inputs' digest and the report of the build that just finished (`pending`:
    cache files still being written, with their coming mtimes)."""
    path = record_file(config)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        caches = _caches(config, pending)
        record = {"kind": KIND, "key": key, "caches": caches, "report": report}
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(path)
