"""Full-text search with pagefind, indexed from a small copy of what pages show, in shards.

Only each concept page's article (the element marked `data-pagefind-body`) is indexed;
stub pages leave the mark out (search finds what is written).
The build keeps that part of every page, without inline SVG, in a search-source folder
in the cache, rewriting only the pages it rendered; pagefind then reads those small
files instead of the whole site. The files mirror the site's paths, so the search
results link to the real pages.

Big sites are split into shards by a hash of the page path, so an edit re-indexes only
the shards it touched and the others are carried over from the previous index:

- shard count: 1 up to `PAGES_PER_SHARD` pages, then doubled until every shard holds at
  most that many, capped at `MAX_SHARDS` (10,000 pages: 32 shards of about 330). Powers
  of two keep the layout unchanged while a vault grows moderately. Measured at 10,000
  pages: one bundle takes ~20 s; shards index as fast cold, and pagefind's time grows
  with the pages it reads (1.1 s for 650, 0.55 s for 330), so an edit waits for one
  small shard. The search page merges the bundles in parallel as it opens
  (`assets/search.js`); in headless chromium on 2 cores, from typing the first query
  to its results: 1.1 s with 16 bundles merged by pagefind's UI, 0.85 s with 32 merged
  in parallel (0.85 s with 16, 1.2 s with 64). Someone who types the moment the page
  opens waits 2.15 s instead of 1.9 s.
- sources: one shard keeps today's layout (`source_dir/<site path>`); several live in
  `source_dir/_shard-KK/<site path>` (slugs never hold `_`, so no page can collide).
  `source_dir/_shards.json` records the shard count and a hash of every source file.
- index: one shard is one bundle in `pagefind/` exactly as before; several are bundles
  in `pagefind/KK/` with the UI files in `pagefind/`. `pagefind/kgraph-shards.json`
  lists the bundles (read by search.js) and a digest of each shard's sources; a shard
  is carried over only when its digest still matches, so the index always follows the
  sources even if a build was interrupted.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from kgraph.problems import Problem, problem

PAGES_PER_SHARD = 500
MAX_SHARDS = 32
STATE = "_shards.json"  # in the source folder
MANIFEST = "kgraph-shards.json"  # in the pagefind folder, read by search.js
_SHARD_DIR = "_shard-"
_UI_FILE = re.compile(r"pagefind-(?:[a-z]+-)?ui\.(?:js|css)|pagefind-highlight\.js")

_ARTICLE = re.compile(rb"<article\b[^>]*\bdata-pagefind-body\b.*?</article>", re.S)
_SVG = re.compile(rb"<svg\b.*?</svg>", re.S)
# Markup pagefind would only parse and drop, or index as noise: navigation inside the
# article (contents, sequence), MathML token soup and code-highlighting spans (their
# text stays). About a fifth of pagefind's time on a large vault.
_NOISE = re.compile(rb"<nav\b.*?</nav>|<math\b.*?</math>|<span\b[^>]*>|</span>", re.S)
_LANG = re.compile(rb'<html\b[^>]*\blang="([^"]*)"')


def _article(page: bytes) -> bytes | None:
    """What `_ARTICLE` matches first, found with plain searches (a tenth of the time: the
    regex's lazy scan to `</article>` cost a sixth of a millisecond a page)."""
    start = page.find(b"<article")
    while start >= 0:
        after = page[start + 8 : start + 9]
        close = page.find(b">", start)
        if after and not (after.isalnum() or after == b"_") and close >= 0:
            head = page[start:close]
            at = head.find(b"data-pagefind-body")
            while at >= 0:
                before, end = head[at - 1 : at], head[at + 18 : at + 19]
                if not (before.isalnum() or before == b"_") and not (end.isalnum() or end == b"_"):
                    stop = page.find(b"</article>", start + at + 18)
                    return None if stop < 0 else page[start : stop + 10]
                at = head.find(b"data-pagefind-body", at + 1)
        start = page.find(b"<article", start + 1)
    return None


def search_source(page: bytes) -> bytes | None:
    """The indexed part of a page as a tiny HTML document, or None if nothing is indexed."""
    found = _article(page)
    if found is None:
        return None
    lang = _LANG.search(page)
    article = _NOISE.sub(b"", _SVG.sub(b"", found))
    code = lang.group(1) if lang else b"en"
    return b'<!DOCTYPE html><html lang="' + code + b'"><body>' + article + b"</body></html>"


def shard_count(pages: int, per_shard: int = PAGES_PER_SHARD, most: int = MAX_SHARDS) -> int:
    """How many shards `pages` pages are split into: a power of two, at most `most`."""
    count = 1
    while count < most and pages > count * per_shard:
        count *= 2
    return count


def shard_of(rel: str, count: int) -> int:
    """The shard of the page at site path `rel`: stable across runs and machines."""
    digest = hashlib.blake2b(rel.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard_sources(source_dir: Path, shard: int, count: int) -> Path:
    """The folder holding shard `shard`'s sources (the source folder itself for one shard)."""
    return source_dir if count == 1 else source_dir / f"{_SHARD_DIR}{shard:02d}"


def _file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _load_state(source_dir: Path) -> tuple[int, dict[str, str]] | None:
    """(shard count, site path -> hash) from the source folder, or None if unknown."""
    try:
        raw = json.loads((source_dir / STATE).read_text(encoding="utf-8"))
        count, files = raw["shards"], raw["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(count, int) or count < 1 or not isinstance(files, dict):
        return None
    return count, {str(k): str(v) for k, v in files.items()}


def _write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def _save_state(source_dir: Path, count: int, files: Mapping[str, str]) -> None:
    body = {"shards": count, "files": dict(sorted(files.items()))}
    _write_atomic(source_dir / STATE, json.dumps(body, separators=(",", ":")).encode())


def _found_sources(source_dir: Path) -> Iterable[tuple[Path, str]]:
    """Every source file in either layout, with its site path."""
    if not source_dir.is_dir():
        return
    for top in sorted(source_dir.iterdir()):
        if top.name.startswith(_SHARD_DIR) and top.is_dir():
            for path in sorted(top.rglob("*.html")):
                yield path, path.relative_to(top).as_posix()
        elif top.is_dir():
            for path in sorted(top.rglob("*.html")):
                yield path, path.relative_to(source_dir).as_posix()
        elif top.suffix == ".html":
            yield top, top.name


def _relayout(source_dir: Path, count: int, keep: set[str]) -> dict[str, str]:
    """Put every kept source file where `count` shards want it; drop the rest."""
    files: dict[str, str] = {}
    for path, rel in list(_found_sources(source_dir)):
        dest = shard_sources(source_dir, shard_of(rel, count), count) / rel
        if rel not in keep or (rel in files and path != dest):
            path.unlink()
            continue
        if path != dest:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
        files[rel] = _file_hash(dest.read_bytes())
    for top in source_dir.iterdir():
        number = top.name[len(_SHARD_DIR) :]
        wanted = count > 1 and number.isdigit() and int(number) < count
        if top.name.startswith(_SHARD_DIR) and not wanted:
            shutil.rmtree(top, ignore_errors=True)
    for root, folders, names in os.walk(source_dir, topdown=False):
        if not folders and not names and Path(root) != source_dir:
            Path(root).rmdir()  # left empty by the moves
    return files


class SourceWriter:
    """Writes the search sources of rendered pages as they arrive, then records the state.

    Made before rendering (it settles the shard layout and drops the sources of removed
    pages), fed each batch of rendered pages while other batches still render, finished
    once: `finish` saves the state and returns the shards whose sources changed.
    `gone` names the pages removed since the last build; without it every source file is
    checked against `pages`.
    """

    def __init__(
        self,
        source_dir: Path,
        pages: Iterable[str],
        gone: Iterable[str] | None = None,
        *,
        per_shard: int = PAGES_PER_SHARD,
    ) -> None:
        self.source_dir = source_dir
        keep = set(pages)
        source_dir.mkdir(parents=True, exist_ok=True)
        self.count = count = shard_count(len(keep), per_shard)
        state = _load_state(source_dir)
        self.dirty: set[int] = set()
        self._save = state is None or state[0] != count or gone is None
        if self._save:
            # Unknown, moved or unchecked: sweep both layouts; the state is rewritten below.
            (source_dir / STATE).unlink(missing_ok=True)
            old = state[1] if state is not None and state[0] == count else None
            self.files = _relayout(source_dir, count, keep)
            if old is None:
                self.dirty = set(range(count))
            else:
                changed = set(old.items()) ^ set(self.files.items())
                self.dirty = {shard_of(rel, count) for rel, _ in changed}
        else:
            assert state is not None and gone is not None
            self.files = state[1]
            for rel in gone:
                if rel not in keep and self.files.pop(rel, None) is not None:
                    shard = shard_of(rel, count)
                    (shard_sources(source_dir, shard, count) / rel).unlink(missing_ok=True)
                    self.dirty.add(shard)

    def add(self, rendered: Mapping[str, bytes]) -> None:
        """Write the sources of these rendered pages where they changed."""
        files, count = self.files, self.count
        for rel in sorted(rendered):
            if not rel.endswith(".html"):
                continue
            data = rendered[rel]  # one at a time: pages may be held compressed
            shard = shard_of(rel, count)
            dest = shard_sources(self.source_dir, shard, count) / rel
            text = search_source(data)
            if text is None:
                if files.pop(rel, None) is not None or dest.exists():
                    dest.unlink(missing_ok=True)
                    self.dirty.add(shard)
                continue
            digest = _file_hash(text)
            # The recorded hash, not the file, decides: a write the state missed is redone.
            if files.get(rel) == digest and dest.is_file():
                continue
            _write_atomic(dest, text)
            files[rel] = digest
            self.dirty.add(shard)

    def shard_digests(self, shards: Iterable[int]) -> dict[int, str]:
        """The digest `build_search_index` will compare for each of `shards`, as the
        sources stand now."""
        wanted = set(shards)
        return {
            shard: digest
            for shard, digest in enumerate(_shard_digests(self.count, self.files, wanted))
            if shard in wanted
        }

    def finish(self) -> set[int]:
        """Save the state; the shards whose sources changed."""
        if self.dirty or self._save:
            _save_state(self.source_dir, self.count, self.files)
        return self.dirty


def update_sources(
    source_dir: Path,
    rendered: Mapping[str, bytes],
    pages: Iterable[str],
    gone: Iterable[str] | None = None,
    *,
    per_shard: int = PAGES_PER_SHARD,
) -> set[int]:
    """Write the search sources of `rendered` pages; drop those of pages that no longer exist.

    `gone` names the pages removed since the last build; without it every source file is
    checked against `pages`. Returns the shards whose sources changed.
    """
    writer = SourceWriter(source_dir, pages, gone, per_shard=per_shard)
    writer.add(rendered)
    return writer.finish()


def _shard_digests(count: int, files: Mapping[str, str], only: set[int] | None = None) -> list[str]:
    """A digest of each shard's sources: its site paths and their hashes (with `only`,
    the other shards' digests are left empty)."""
    hashers = [hashlib.blake2b(digest_size=16) for _ in range(count)]
    for rel in sorted(files):
        shard = shard_of(rel, count)
        if only is None or shard in only:
            hashers[shard].update(f"{rel}\0{files[rel]}\n".encode())
    return [h.hexdigest() for h in hashers]


def _read_manifest(bundle_dir: Path) -> dict[str, object] | None:
    try:
        raw = json.loads((bundle_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _bundle_name(shard: int, count: int) -> str:
    return "" if count == 1 else f"{shard:02d}/"


def _link_tree(src: Path, dest: Path, skip: frozenset[str]) -> None:
    """Hard-link (or copy, across devices) every file of `src` into `dest`, but `skip`."""
    # Plain strings over os.walk: a bundle holds a file per page, so per-path cost counts.
    for root, _, names in os.walk(src):
        rel = os.path.relpath(root, src)
        folder = os.path.join(dest, rel)
        os.makedirs(folder, exist_ok=True)
        for name in names:
            if (name if rel == "." else f"{rel}/{name}") not in skip:
                _link_file(os.path.join(root, name), os.path.join(folder, name))


def _link_bundles(previous: Path, work: Path, names: list[str]) -> None:
    """Hard-link the bundles `names` of `previous` into `work` (the manifest aside).

    Shard bundles (`KK/`) go through one `cp -al`: at 10,000 pages, 0.07 s in a process
    of its own, against 0.09-0.15 s of Python in this one, holding the interpreter while
    the build still renders. Anything else, or a `cp` that fails (not GNU, another
    device), is linked here."""
    folders = [name for name in names if name]
    cp = shutil.which("cp") if sys.platform.startswith("linux") else None
    if folders and cp:
        sources = [str(previous / name.rstrip("/")) for name in folders]
        try:
            done = subprocess.run(
                [cp, "-al", "--", *sources, f"{work}/"], capture_output=True, check=False
            )
            if done.returncode == 0:
                names = [name for name in names if not name]
            else:
                for name in folders:
                    shutil.rmtree(work / name, ignore_errors=True)
        except OSError:
            pass
    for name in names:
        _link_tree(previous / name, work / name, skip=frozenset({MANIFEST}))


def _link_file(src: str | Path, dest: str | Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


@lru_cache(maxsize=1)
def _pagefind() -> tuple[str, ...]:
    """The pagefind binary, as `python -m pagefind` finds it, started without a Python of
    its own in between (a fifth of a second a shard); that command if none is found.

    pagefind's own lookup (`pagefind.service.get_executable`) imports asyncio, 50 ms on
    the path of every build's index, so its first steps are taken here: the variable
    naming the binary, then the binary packages; only then is it asked (for `PATH`)."""
    found: Path | None = None
    if os.environ.get("PAGEFIND_BINARY_PATH"):
        found = Path(os.environ["PAGEFIND_BINARY_PATH"])
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        if found is not None:
            break
        try:
            found = Path(importlib.import_module(package).get_executable())
        except Exception:  # not installed, or no binary for this platform
            continue
    if found is None:
        try:
            from pagefind.service import get_executable

            found = get_executable()
        except Exception:  # the package moved its helper or cannot import: use its command
            found = None
    if found is not None and found.is_file():
        return (str(found.resolve()),)
    return (sys.executable, "-m", "pagefind")


def _run_pagefind(site: Path, output: Path, background: bool = False) -> str | None:
    """Index `site` into `output`; the failure message, or None when it worked."""
    cmd = [*_pagefind(), "--site", str(site), "--silent"]
    nice = shutil.which("nice") if background else None
    if nice:  # the dev server's own requests come first
        cmd = [nice, "-n", "15", *cmd]
    cmd += ["--output-path", str(output)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pagefind did not run: {exc}"
    if done.returncode != 0 or not (output / "pagefind-entry.json").is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"pagefind failed: {detail[0]}"
    return None


class HeadStart:
    """pagefind started on the shards of the pages rendered first (the edited notes'),
    while the other pages a change reaches still render. `build_search_index` takes a
    shard's bundle from here only if that shard's sources are still what they were when
    it started (their digest); otherwise it indexes the shard again. Most edits change
    the article of the edited note alone: the others show it only in their asides."""

    def __init__(self, source_dir: Path, out: Path, digests: Mapping[int, str], count: int):
        self.count = count
        self.digests = dict(digests)
        self.folder = out.parent / f".{out.name}.pagefind-head"
        shutil.rmtree(self.folder, ignore_errors=True)
        pool = ThreadPoolExecutor(max_workers=max(1, len(self.digests)))
        self._runs = {
            shard: pool.submit(
                _run_pagefind,
                shard_sources(source_dir, shard, count),
                self.folder / f"{shard:02d}",
            )
            for shard in self.digests
        }
        pool.shutdown(wait=False)  # the runs finish; `finish` waits for them

    def covers(self, shard: int, count: int, digest: str) -> bool:
        """Whether the shard is being indexed from these sources."""
        return shard in self._runs and count == self.count and self.digests[shard] == digest

    def bundle(self, shard: int) -> Path | None:
        """The shard's bundle once pagefind is done; None if it failed."""
        return self.folder / f"{shard:02d}" if self._runs[shard].result() is None else None

    def finish(self) -> None:
        for run in self._runs.values():
            run.result()
        shutil.rmtree(self.folder, ignore_errors=True)


class IndexRun:
    """`build_search_index` in a thread, started as soon as the sources are written; the
    command line publishes the site meanwhile and swaps the new index in with it."""

    def __init__(
        self, source_dir: Path, out: Path, dirty: set[int], head: HeadStart | None = None
    ) -> None:
        self.fresh = out.parent / f".{out.name}.pagefind-next"
        shutil.rmtree(self.fresh, ignore_errors=True)
        self.problems: list[Problem] = []
        self._head = head

        def run() -> None:
            self.problems.extend(
                build_search_index(
                    source_dir, self.fresh, previous=out / "pagefind", dirty=dirty, head=head
                )
            )

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def install(self, stage: Path) -> None:
        """Wait for the index and move it into the staged site."""
        self._thread.join()
        if self.fresh.is_dir():
            os.replace(self.fresh, stage / "pagefind")

    def finish(self) -> None:
        self._thread.join()
        if self._head is not None:
            self._head.finish()
        shutil.rmtree(self.fresh, ignore_errors=True)


def build_search_index(
    source_dir: Path,
    output: Path | None = None,
    *,
    previous: Path | None = None,
    dirty: set[int] | None = None,
    background: bool = False,
    head: HeadStart | None = None,
) -> list[Problem]:
    """Index the sources into `output` (default `source_dir/pagefind`), reusing `previous`.

    Shards in `dirty` (all when None) or whose sources differ from what `previous` indexed
    are re-indexed in parallel, or taken from `head` when it indexed the same sources;
    the others are hard-linked from `previous`. With `background`, pagefind runs at a
    low priority.
    """
    output = output if output is not None else source_dir / "pagefind"
    state = _load_state(source_dir)
    if state is None:  # a plain folder of pages: one shard, hashed as it stands
        found = [(rel, path) for path, rel in _found_sources(source_dir)]
        state = (1, {rel: _file_hash(path.read_bytes()) for rel, path in found})
    count, files = state
    digests = _shard_digests(count, files)
    populated = {shard_of(rel, count) for rel in files}

    old = _read_manifest(previous) if previous is not None else None
    old_digests = old.get("sources") if old is not None and old.get("shards") == count else None
    reuse: set[int] = set()
    if previous is not None and isinstance(old_digests, list) and len(old_digests) == count:
        for shard in range(count):
            bundle = previous / _bundle_name(shard, count)
            if (
                (dirty is not None and shard not in dirty)
                and old_digests[shard] == digests[shard]
                and (shard not in populated or (bundle / "pagefind-entry.json").is_file())
            ):
                reuse.add(shard)

    work = output.parent / f".{output.name}.indexing"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    todo = sorted(s for s in populated if s not in reuse)
    ahead = [s for s in todo if head is not None and head.covers(s, count, digests[s])]
    todo = [s for s in todo if s not in ahead]
    problems: list[Problem] = []
    failed: set[int] = set()
    with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, len(todo) or 1))) as pool:
        runs = {
            shard: pool.submit(
                _run_pagefind,
                shard_sources(source_dir, shard, count),
                work / _bundle_name(shard, count),
                background,
            )
            for shard in todo
        }
        # Carried-over shards are linked while pagefind runs.
        carried = [_bundle_name(shard, count) for shard in sorted(reuse & populated)]
        if carried:
            assert previous is not None  # reuse is empty without it
            _link_bundles(previous, work, carried)
        for shard in ahead:
            assert head is not None
            done = head.bundle(shard)
            if done is not None and count > 1:
                os.replace(done, work / _bundle_name(shard, count))  # the head's to give
            elif done is not None:
                _link_tree(done, work, skip=frozenset())
            else:  # it failed there: once more here, to report why
                runs[shard] = pool.submit(
                    _run_pagefind,
                    shard_sources(source_dir, shard, count),
                    work / _bundle_name(shard, count),
                    background,
                )
        for shard, run in runs.items():
            message = run.result()
            if message is not None:
                failed.add(shard)
                where = "" if count == 1 else f" (shard {shard})"
                problems.append(problem("", 0, "search-index", message + where))
    bundles = [_bundle_name(s, count) for s in sorted(populated - failed)]
    if count > 1 and bundles:
        # The search page loads the UI from `pagefind/`; every bundle ships the same files.
        for path in sorted((work / bundles[0]).iterdir()):
            if _UI_FILE.fullmatch(path.name):
                _link_file(path, work / path.name)
    manifest = {
        "version": 1,
        "shards": count,
        "bundles": bundles,
        "sources": [None if s in failed else digests[s] for s in range(count)],
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")

    # Swap the finished index in; `previous` may be `output` itself, so only now.
    retired = output.parent / f".{output.name}.retired"
    shutil.rmtree(retired, ignore_errors=True)
    if output.exists():
        os.replace(output, retired)
    os.replace(work, output)
    shutil.rmtree(retired, ignore_errors=True)
    return problems
