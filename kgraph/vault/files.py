"""Find a vault's note and attachment files, skipping what Obsidian and the user ignore."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kgraph.config import DEFAULT_IGNORE
from kgraph.problems import Problem, problem

NOTE_SUFFIXES = (".md", ".markdown")
_SKIPPED_NAMES = frozenset({"node_modules"})
_CONFLICT = ".sync-conflict-"


@dataclass(frozen=True)
class Discovery:
    """The files of a vault: notes and attachments as sorted vault-relative POSIX paths."""

    notes: tuple[str, ...]
    attachments: tuple[str, ...]
    problems: tuple[Problem, ...]


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a gitignore-style glob (`*`, `?`, `[..]`, `**`) to match vault-relative paths."""
    pattern = pattern.strip().removeprefix("./").lstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        # A bare name matches at any depth, as in .gitignore.
        pattern = "**/" + pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.S)


def is_ignored(rel: str, patterns: Sequence[str]) -> bool:
    """Whether a vault-relative path (file or folder) matches one of the globs."""
    joined = _any_glob(tuple(patterns))
    return joined is not None and joined.fullmatch(rel) is not None


@lru_cache(maxsize=64)
def _any_glob(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all the globs: discovery asks about every file of the vault."""
    parts = [f"(?:{glob_regex(p).pattern})" for p in patterns if p.strip()]
    return re.compile("|".join(parts), re.S) if parts else None


def unseen(rel: str, ignore: Sequence[str] = ()) -> bool:
    """Whether discovery skips this vault path without a word: hidden or backup files,
    ignored folders and globs (a sync-conflict copy is reported, so it is not unseen)."""
    parts = rel.split("/")
    patterns = (*DEFAULT_IGNORE, *ignore)
    for i, name in enumerate(parts):
        if _CONFLICT in name:
            return False
        if name.startswith(".") or name.endswith("~") or name in _SKIPPED_NAMES:
            return True
        if is_ignored("/".join(parts[: i + 1]), patterns):
            return True
    return False


def _utf8(name: str) -> bool:
    """Whether a name from the file system is valid UTF-8 (Python keeps other bytes as
    lone surrogates, which cannot be written out)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def inside(real: str, root: str) -> bool:
    """Whether the real path `real` is the real folder `root` or under it."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _display_name(vault: Path, rel: str) -> str:
    """The NFC form of a path if the file opens by that name, else the name on disk."""
    nfc = unicodedata.normalize("NFC", rel)
    if nfc == rel:
        return rel
    try:
        if os.path.samefile(vault / nfc, vault / rel):
            return nfc
    except OSError:
        pass
    return rel


def discover(
    vault: Path, ignore: Sequence[str] = (), *, exclude_dirs: Sequence[Path] = ()
) -> Discovery:
    """Walk the vault once with os.scandir; symlinks leaving the vault are not followed."""
    root = os.path.realpath(vault)
    patterns = (*DEFAULT_IGNORE, *ignore)
    excluded = {os.path.realpath(d) for d in exclude_dirs}
    notes: list[str] = []
    attachments: list[str] = []
    problems: list[Problem] = []
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[str, str]] = [(str(vault), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in visited:
                continue  # a symlink loop, or a folder linked twice
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                listing = list(entries)
        except OSError as exc:
            problems.append(problem(prefix or ".", 0, "unreadable-file", f"cannot list: {exc}"))
            continue
        for entry in listing:
            name = entry.name
            rel = prefix + name
            if not name.isascii() and not _utf8(name):
                # Undecodable bytes in a name: every path the build writes is UTF-8.
                shown = os.fsencode(rel).decode("utf-8", "replace")
                message = "name is not valid UTF-8; skipped (rename it)"
                problems.append(problem(shown, 0, "bad-file-name", message))
                continue
            if _CONFLICT in name:
                problems.append(problem(rel, 0, "conflict-copy", "sync conflict copy; skipped"))
                continue
            if name.startswith(".") or name.endswith("~") or name in _SKIPPED_NAMES:
                continue
            if is_ignored(rel, patterns):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if is_link:
                real = os.path.realpath(entry.path)
                if not inside(real, root):
                    message = "symbolic link leads outside the vault; not followed"
                    problems.append(problem(rel, 0, "unsafe-path", message))
                    continue
            if is_dir:
                if os.path.realpath(entry.path) not in excluded:
                    stack.append((entry.path, rel + "/"))
            elif is_file:
                shown = _display_name(vault, rel) if not rel.isascii() else rel
                is_note = name.lower().endswith(NOTE_SUFFIXES)
                (notes if is_note else attachments).append(shown)
    return Discovery(
        notes=tuple(sorted(notes)),
        attachments=tuple(sorted(attachments)),
        problems=tuple(sorted(problems)),
    )


def safe_join(vault: Path, rel: str) -> Path | None:
    """`vault/rel` resolved, or None if it would leave the vault (`..`, absolute, symlink)."""
    if not rel or "\x00" in rel:
        return None
    root = vault.resolve()
    candidate = Path(rel)
    if candidate.is_absolute() or candidate.drive:
        return None
    try:
        target = (root / candidate).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return target if target == root or target.is_relative_to(root) else None
