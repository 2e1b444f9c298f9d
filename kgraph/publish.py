"""Put a rendered site in place atomically, touching only files whose bytes changed.

The new site is assembled in a staging folder beside the output: unchanged files are
hard links to the published ones (their mtimes stay), changed files are written fresh.
Then two renames swap it in. A build killed at any moment leaves the previous site in
place (or, between the two renames, in `.<name>.previous`, which the next build puts
back), never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

# Folders other tools own inside the output (rebuilt after the pages are in place).
GENERATED_DIRS = ("pagefind",)


@dataclass(frozen=True)
class PublishStats:
    written: int
    unchanged: int
    removed: int
    changed: tuple[str, ...] = field(default=())  # output paths written or removed


def _staging(out: Path) -> Path:
    return out.parent / f".{out.name}.staging"


def _previous(out: Path) -> Path:
    return out.parent / f".{out.name}.previous"


def _trash(out: Path) -> Path:
    return out.parent / f".{out.name}.trash-{os.getpid()}-{time.monotonic_ns()}"


def _incoming(out: Path) -> Path:
    return out.parent / f".{out.name}.incoming"


def _journal(out: Path) -> Path:
    return out.parent / f".{out.name}.journal"


def _rendering(out: Path) -> Path:
    return out.parent / f".{out.name}.rendering"


def rendering_folder(out: Path) -> Path:
    """An empty folder beside `out` for render workers to write a whole new site into.

    For a build with no published site to compare with: `publish` then takes the folder
    as its staging tree (given `StagedFiles` rooted there), and a build killed before
    that leaves it for the next build's `recover` to drop.
    """
    recover(out)
    folder = _rendering(out)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def recover(out: Path, *, keep_rendering: bool = False) -> None:
    """Finish or undo a swap that a killed build left half done; drop stale staging.

    A journaled update whose journal was written is finished (rolled forward); one
    killed before that never touched the site, and its new files are dropped.
    `keep_rendering` spares the folder of `rendering_folder` (the build publishing it).
    """
    journal = _journal(out)
    if journal.is_file():
        try:
            ops = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            ops = None
        if isinstance(ops, list):
            _apply(out, ops)
        journal.unlink(missing_ok=True)
    shutil.rmtree(_incoming(out), ignore_errors=True)
    for name in GENERATED_DIRS:
        shutil.rmtree(out.parent / f".{out.name}.{name}-old", ignore_errors=True)
    prev = _previous(out)
    if prev.exists():
        if out.exists():
            shutil.rmtree(prev, ignore_errors=True)
        else:
            os.replace(prev, out)
    shutil.rmtree(_staging(out), ignore_errors=True)
    if not keep_rendering:
        shutil.rmtree(_rendering(out), ignore_errors=True)
    # Old sites a background deletion did not finish (a rebooted machine, say).
    for old in out.parent.glob(f".{out.name}.trash-*"):
        pid = old.name.split("-")[-2]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)


def _existing(out: Path) -> dict[str, str]:
    """Every file of the published site (generated folders aside), by relative path."""
    found: dict[str, str] = {}
    if not out.is_dir():
        return found
    # Plain strings and scandir: ten thousand Path objects and relpath calls cost seconds.
    stack: list[tuple[str, str]] = [(str(out), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if prefix or entry.name not in GENERATED_DIRS:
                    stack.append((entry.path, rel + "/"))
            else:
                found[rel] = entry.path
    return found


def _same_bytes(path: str | Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        if os.stat(a).st_size != os.stat(b).st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


def _inside(root: Path, rel: str) -> Path | None:
    if (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or any(p in ("", ".", "..") for p in rel.split("/"))
    ):
        return None
    return root / rel


MARKER = ".kgraph-site"


class NotASite(RuntimeError):
    """The output folder holds files kgraph did not write: it will not replace them."""


def check_output(out: Path) -> None:
    """Refuse to replace a file, or a non-empty folder that is not a kgraph site."""
    if out.exists() and not out.is_dir():
        raise NotASite(f"{out} is a file, not a folder; choose another output folder")
    if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
        raise NotASite(
            f"{out} is not empty and was not written by kgraph; choose another output "
            f"folder or empty it (kgraph replaces its output folder as a whole)"
        )


def publish(
    out: Path,
    files: Mapping[str, bytes],
    copies: Mapping[str, Path],
    keep: Iterable[str] = (),
    *,
    before_swap: Callable[[Path], None] | None = None,
    generated_lock: AbstractContextManager[object] | None = None,
    atomic: bool = True,
) -> PublishStats:
    """Make `out` hold exactly `files`, `copies` and the kept files; return what changed.

    `keep` names files already in `out` that stay as they are (pages a build skipped).
    `before_swap(staging)` runs on the finished staging folder (e.g. the search indexer).
    `atomic=False` (the dev server) writes the changed files in place instead: each file
    still appears whole, but the site is not swapped as one. `StagedFiles` rooted in
    `rendering_folder(out)` are already in place: that folder becomes the staging tree.
    """
    from kgraph.site.output import StagedFiles

    # pages the render workers already wrote where the new site is assembled
    staged = files if isinstance(files, StagedFiles) and files.root == _rendering(out) else None
    recover(out, keep_rendering=staged is not None)
    check_output(out)
    # A view, not a copy: rendered pages may be held compressed until written.
    marker = {MARKER: b"This folder is written by kgraph build; it replaces it whole.\n"}
    files = ChainMap(marker, files)  # type: ignore[arg-type]
    existing = _existing(out)
    kept = {rel for rel in keep if rel in existing}
    plan_write: list[str] = []
    plan_copy: dict[str, Path] = {}
    unchanged: set[str] = set(kept)
    for rel in files:
        if _inside(out, rel) is None:
            continue
        if rel in existing and _same_bytes(existing[rel], files[rel]):
            unchanged.add(rel)
        else:
            plan_write.append(rel)
    for rel, src in copies.items():
        if rel in files or _inside(out, rel) is None or not src.is_file():
            continue
        if rel in existing and _same_file(existing[rel], src):
            unchanged.add(rel)
        else:
            plan_copy[rel] = src
    removed = sorted(set(existing) - unchanged - set(plan_write) - set(plan_copy))
    changed = tuple(sorted({*plan_write, *plan_copy, *removed} - {MARKER}))
    stats = PublishStats(
        written=len({*plan_write, *plan_copy} - {MARKER}),
        unchanged=len(unchanged - {MARKER}),
        removed=len(removed),
        changed=changed,
    )
    if staged is not None:
        stage = staged.root  # the staging tree already holds the new pages
    else:
        if not plan_write and not plan_copy and not removed and out.is_dir():
            return stats
        if not atomic and out.is_dir():
            _update_in_place(out, files, plan_write, plan_copy, removed)
            return stats
        changes = len(plan_write) + len(plan_copy) + len(removed)
        if out.is_dir() and changes <= max(SMALL_CHANGE, len(existing) // 50):
            _journaled(out, files, plan_write, plan_copy, removed, before_swap)
            return stats
        stage = _staging(out)
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    made: set[str] = set()
    base = str(stage)
    for rel in sorted(unchanged):
        folder = rel.rpartition("/")[0]
        if folder and folder not in made:
            try:  # sorted paths create a parent before its children: mkdir mostly suffices
                os.mkdir(os.path.join(base, folder))
            except FileNotFoundError:
                os.makedirs(os.path.join(base, folder), exist_ok=True)
            except FileExistsError:
                pass
            made.add(folder)
        linked = os.path.join(base, rel)
        if staged is not None and rel in staged:
            os.unlink(linked)  # the old file, linked instead, keeps its mtime
        try:
            os.link(existing[rel], linked)
        except OSError:  # file systems without hard links: copy, keeping the mtime
            shutil.copy2(existing[rel], linked)
    if before_swap is None:
        # Nothing regenerates them before the swap: carry them over as they are (under
        # the lock of whoever replaces them in the background).
        with generated_lock or nullcontext():
            for name in GENERATED_DIRS:
                if (out / name).is_dir():
                    shutil.copytree(out / name, stage / name, copy_function=os.link)
    for rel in plan_write:
        if staged is not None and rel in staged:
            continue
        dest = stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(files[rel])
    for rel, src in plan_copy.items():
        dest = stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    if before_swap is not None:
        before_swap(stage)
    swap(stage, out)
    return stats


# Up to this many changed files (or 2 % of the site) are published in place under a
# journal; more are staged in a new tree and swapped in. Staging links every unchanged
# file into a fresh tree: ten thousand folders cost seconds on common file systems.
SMALL_CHANGE = 64


def _journaled(
    out: Path,
    files: Mapping[str, bytes],
    write: Iterable[str],
    copy: Mapping[str, Path],
    remove: Iterable[str],
    before_swap: Callable[[Path], None] | None,
) -> None:
    """Publish a few changed files in place, as one step a kill cannot leave half done.

    The new files are written beside the site first; then a journal naming every move
    is written atomically, and the moves are made. A build killed before the journal
    exists changed nothing; one killed after it is finished by the next `recover`.
    """
    incoming = _incoming(out)
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    ops: list[list[str]] = []
    for rel in write:
        dest = incoming / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(files[rel])
        ops.append(["put", rel])
    for rel, src in copy.items():
        dest = incoming / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        ops.append(["put", rel])
    ops.extend(["del", rel] for rel in remove)
    if before_swap is not None:
        generated = incoming / ".generated"
        generated.mkdir()
        before_swap(generated)  # e.g. the search index, written into generated/pagefind
        ops.extend(["dir", name] for name in GENERATED_DIRS if (generated / name).is_dir())
    journal = _journal(out)
    tmp = journal.with_name(journal.name + ".tmp")
    tmp.write_text(json.dumps(ops), encoding="utf-8")
    os.replace(tmp, journal)  # from here on, the update happens
    _apply(out, ops)
    journal.unlink()
    shutil.rmtree(incoming, ignore_errors=True)


def _apply(out: Path, ops: list[list[str]]) -> None:
    """Make the journal's moves; each is skipped once done, so a second run is harmless."""
    incoming = _incoming(out)
    for op, rel in ops:
        if _inside(out, rel) is None:
            continue
        if op == "put" and (incoming / rel).exists():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(incoming / rel, out / rel)
        elif op == "del":
            (out / rel).unlink(missing_ok=True)
            folder = (out / rel).parent
            while folder != out and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a clean build has no empty folders either
                folder = folder.parent
        elif op == "dir" and (incoming / ".generated" / rel).is_dir():
            old = out.parent / f".{out.name}.{rel}-old"
            shutil.rmtree(old, ignore_errors=True)
            if (out / rel).exists():
                os.replace(out / rel, old)
            os.replace(incoming / ".generated" / rel, out / rel)
            if old.exists():  # the old search index: thousands of files nobody waits for
                from kgraph.background import remove_later

                trash = _trash(out)
                os.replace(old, trash)
                remove_later(trash)


def _update_in_place(
    out: Path,
    files: Mapping[str, bytes],
    write: Iterable[str],
    copy: Mapping[str, Path],
    remove: Iterable[str],
) -> None:
    for rel in write:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".kgraph-tmp")
        tmp.write_bytes(files[rel])
        os.replace(tmp, dest)
    for rel, src in copy.items():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".kgraph-tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    for rel in remove:
        (out / rel).unlink(missing_ok=True)


def swap(stage: Path, out: Path) -> None:
    """Replace `out` by `stage` with two renames; `recover` completes an interrupted swap.

    The old site is renamed out of the way and deleted in the background: removing ten
    thousand files takes seconds that nobody needs to wait for.
    """
    from kgraph.background import remove_later

    prev = _previous(out)
    shutil.rmtree(prev, ignore_errors=True)
    if out.exists():
        os.replace(out, prev)
    os.replace(stage, out)
    if prev.exists():
        trash = _trash(out)
        os.replace(prev, trash)
        remove_later(trash)


def update_files(
    out: Path, files: Mapping[str, bytes], copies: Mapping[str, Path] = {}
) -> tuple[str, ...]:
    """Write just these files into a published site, in place, where their bytes differ;
    return the paths written. For the dev server's edits, which know what they touched."""
    write = {
        rel: data
        for rel, data in files.items()
        if (dest := _inside(out, rel)) is not None and not _same_bytes(dest, data)
    }
    copy = {
        rel: src
        for rel, src in copies.items()
        if (dest := _inside(out, rel)) is not None and src.is_file() and not _same_file(dest, src)
    }
    _update_in_place(out, write, list(write), copy, ())
    return tuple(sorted({*write, *copy}))
