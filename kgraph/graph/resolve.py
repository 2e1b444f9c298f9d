"""Link resolution: from a written linkpath to the vault file and concept it lands on.

Order (DESIGN §4, PARSING §1.2): empty linkpath → self; URL → external; `./`, `../` relative
and leading `/` root paths; a linkpath with `/` → vault-root path, then path suffix; a bare
name → literal file name, then name + `.md`, tie-broken root-exact > same folder > shortest
path > lexicographic (`ambiguous-link` whenever several matched); then title, alias
(`alias-link` info) and loose key (`loose-link` info). Everything is case-insensitive.
Markdown links are tried relative to the source first, then vault-wide, then percent-decoded.
A target that leaves the vault is `unsafe-path` and unresolved. Indexes are built once, so
each resolution is a handful of dict lookups. Problems found while resolving travel in
`Resolution.problems`; unresolved-link warnings are the graph builder's job. A file holding
several notes resolves to the concept of its first note.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from kgraph.graph.keys import assign_keys, concept_key, fold, loose_key
from kgraph.problems import Problem, problem
from kgraph.vault.note import Link, Note

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://|mailto:)", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True)
class Resolution:
    """Where one link lands."""

    key: str | None  # concept key; None for attachments, external URLs, in-page anchors
    file: str | None  # vault-relative path it resolved to; None if unresolved
    via: str  # path | stem | title | alias | key | self | attachment | external | unresolved
    subpath: str | None
    candidates: tuple[str, ...] = ()  # every matching file when the name was ambiguous
    problems: tuple[Problem, ...] = ()


class Resolver:
    """Indexes the vault once, then resolves links in O(1) average time."""

    def __init__(self, notes: Sequence[Note], files: Sequence[str]) -> None:
        self.note_keys: list[str] = assign_keys(notes)
        self._note_key: dict[tuple[str, int], str] = {}
        self._file_key: dict[str, str] = {}
        self._key_file: dict[str, str] = {}
        for note, key in zip(notes, self.note_keys, strict=True):
            self._note_key[(note.path, note.index)] = key
            # A file holding several notes lands on the concept of its first note.
            if note.path not in self._file_key or note.index == 0:
                self._file_key[note.path] = key
            self._key_file.setdefault(key, note.path)
        all_files = sorted(set(files) | {n.path for n in notes})
        self._by_path: dict[str, str] = {}
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._by_suffix: dict[str, list[str]] = defaultdict(list)
        for path in all_files:
            folded = fold(path)
            self._by_path.setdefault(folded, path)
            self._by_name[folded.rsplit("/", 1)[-1]].append(path)
            start = folded.find("/")
            # Proper suffixes that still contain a '/' serve partial-path links.
            while start != -1:
                rest = folded[start + 1 :]
                if "/" in rest:
                    self._by_suffix[rest].append(path)
                start = folded.find("/", start + 1)
        self._dirs: dict[str, str] = {}
        # Problem-free resolutions by (target as written, kind, subpath, folder or "" for
        # a bare wikilink): the graph builder reads it directly for most links.
        self.memo: dict[tuple[str, str, str | None, str], Resolution] = {}
        self._titles: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._loose: dict[str, str] = {}
        for note, key in zip(notes, self.note_keys, strict=True):
            if note.titled:
                self._titles.setdefault(concept_key(note.title), key)
            for alias in note.aliases:
                self._aliases.setdefault(concept_key(alias), key)
        for note, key in zip(notes, self.note_keys, strict=True):
            for name in (note.title, note.stem, key, *note.aliases):
                self._loose.setdefault(loose_key(name), key)

    def key_of(self, note: Note) -> str:
        """Concept key of a note given to the constructor."""
        return self._note_key[(note.path, note.index)]

    def file_of(self, key: str) -> str | None:
        """First file of a note concept."""
        return self._key_file.get(key)

    def resolve(self, link: Link, source_path: str) -> Resolution:
        """Resolve one link written in `source_path`."""
        target = link.target.strip()
        if not target:
            return Resolution(None, source_path, "self", link.subpath)
        bare = link.kind != "markdown" and "/" not in target and not target.startswith(".")
        # Problem-free results of a bare wikilink do not depend on where it was written.
        place = "" if bare else self._dir_of(source_path)
        memo_key = (link.target, link.kind, link.subpath, place)
        found = self.memo.get(memo_key)
        if found is None:
            found = self._resolve(link, source_path)
            # Results carrying problems name a line, so only problem-free ones are shared.
            if not found.problems:
                self.memo[memo_key] = found
        return found

    def _resolve(self, link: Link, source_path: str) -> Resolution:
        target = link.target.strip()
        if not target:
            return Resolution(None, source_path, "self", link.subpath)
        if ":" in target and _EXTERNAL.match(target):
            return Resolution(None, None, "external", link.subpath)
        source_dir = self._dir_of(source_path)
        result: Resolution | None = None
        if link.kind == "markdown" and not target.startswith("/"):
            local = _normalise(posixpath.join(source_dir, target))
            if local is not None:
                result = self._exact(local, link)
        if result is None:
            result = self._resolve_name(target, source_path, source_dir, link)
        if result.via == "unresolved" and link.kind == "markdown" and _PERCENT.search(target):
            decoded = self.resolve(
                Link(target=unquote(target), line=link.line, subpath=link.subpath), source_path
            )
            if decoded.via != "unresolved":
                return decoded
        return result

    def _dir_of(self, path: str) -> str:
        folder = self._dirs.get(path)
        if folder is None:
            folder = self._dirs[path] = posixpath.dirname(path)
        return folder

    def _resolve_name(self, target: str, source: str, source_dir: str, link: Link) -> Resolution:
        if target.startswith(("./", "../", "/")) or target in {".", ".."}:
            base = "" if target.startswith("/") else source_dir
            norm = _normalise(posixpath.join(base, target.lstrip("/")))
            if norm is None:
                return self._unsafe(target, source, link)
            return self._exact(norm, link) or self._by_names(target, source, link)
        if "/" in target:
            norm = _normalise(target)
            if norm is None:
                return self._unsafe(target, source, link)
            hit = self._exact(norm, link)
            if hit is not None:
                return hit
            folded = fold(norm)
            cands = self._by_suffix.get(folded) or self._by_suffix.get(folded + ".md") or []
            if cands:
                return self._pick(cands, norm, target, source, source_dir, link, "path")
            return self._by_names(target, source, link)
        folded = fold(target)
        cands = self._by_name.get(folded) or self._by_name.get(folded + ".md") or []
        if cands:
            return self._pick(cands, target, target, source, source_dir, link, "stem")
        return self._by_names(target, source, link)

    def _exact(self, path: str, link: Link) -> Resolution | None:
        folded = fold(path)
        hit = self._by_path.get(folded) or self._by_path.get(folded + ".md")
        return None if hit is None else self._hit(hit, "path", link)

    def _hit(
        self,
        path: str,
        via: str,
        link: Link,
        candidates: tuple[str, ...] = (),
        problems: tuple[Problem, ...] = (),
    ) -> Resolution:
        key = self._file_key.get(path)
        if key is None:
            return Resolution(None, path, "attachment", link.subpath, candidates, problems)
        return Resolution(key, path, via, link.subpath, candidates, problems)

    def _pick(
        self,
        cands: list[str],
        wanted: str,
        target: str,
        source: str,
        source_dir: str,
        link: Link,
        via: str,
    ) -> Resolution:
        if len(cands) == 1:
            return self._hit(cands[0], via, link)
        exact = {fold(wanted), fold(wanted) + ".md"}
        chosen = next((p for p in cands if fold(p) in exact), None)
        if chosen is None:
            beside = [p for p in cands if posixpath.dirname(p) == source_dir]
            chosen = min(beside or cands, key=lambda p: (len(p), p))
        warning = problem(
            source,
            link.line,
            "ambiguous-link",
            f"[[{target}]] matches {len(cands)} files; using {chosen}",
        )
        return self._hit(chosen, via, link, candidates=tuple(cands), problems=(warning,))

    def _by_names(self, target: str, source: str, link: Link) -> Resolution:
        key = concept_key(target)
        if key in self._titles:
            found = self._titles[key]
            return Resolution(found, self._key_file.get(found), "title", link.subpath)
        for via, index, code in (
            ("alias", self._aliases, "alias-link"),
            ("key", self._loose, "loose-link"),
        ):
            found_key = index.get(key if via == "alias" else loose_key(target))
            if found_key is not None:
                how = "an alias" if via == "alias" else "a loose name match"
                note = problem(
                    source,
                    link.line,
                    code,
                    f"[[{target}]] resolved to {found_key!r} by {how}; "
                    "Obsidian leaves this link unresolved",
                )
                file = self._key_file.get(found_key)
                return Resolution(found_key, file, via, link.subpath, problems=(note,))
        return Resolution(None, None, "unresolved", link.subpath)

    def _unsafe(self, target: str, source: str, link: Link) -> Resolution:
        warning = problem(source, link.line, "unsafe-path", f"{target!r} points outside the vault")
        return Resolution(None, None, "unresolved", link.subpath, problems=(warning,))


def _normalise(path: str) -> str | None:
    """Vault-relative normal form of a joined path, or None if it escapes the vault."""
    norm = posixpath.normpath(path) if path else ""
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        return None
    return "" if norm == "." else norm
