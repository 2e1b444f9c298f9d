"""Turn the bytes of a note file into text and cut that text into notes.

Decoding copes with BOMs, CRLF, torn UTF-8, NUL runs, legacy encodings and binary files;
repair fixes mojibake; splitting finds every note of a file that holds several.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import yaml

from kgraph.problems import Problem, problem
from kgraph.vault.frontmatter import FrontmatterLoader
from kgraph.vault.note import RawNote
from kgraph.vault.syntax.fences import code_lines

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip archive"),
    (b"PK\x05\x06", "zip archive"),
    (b"%PDF", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Control bytes that never appear in text (tab, LF, FF, CR and ESC excluded).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_WESTERN_PREFIXES = ("cp125", "latin", "iso8859", "mac_", "cp437", "cp850", "windows")


@lru_cache(maxsize=1)
def _fixer() -> Callable[[str], str]:
    """ftfy's repair with our settings; imported on the first non-ASCII line (most vaults
    are mostly ASCII, and a command-line edit should not pay for the import)."""
    import ftfy

    config = ftfy.TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_encoding=True,
        restore_byte_a0=True,
        replace_lossy_sequences=False,
        decode_inconsistent_utf8=True,
        fix_c1_controls=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        fix_surrogates=False,
        remove_control_chars=False,
        normalization=None,
        explain=False,
    )
    return lambda line: str(ftfy.fix_text(line, config))


# A possessive whose middle UTF-8 bytes were lost: "modelâs" was "model’s". The word before
# must be plain ASCII and the line free of other accented letters, so Romanian stays intact.
_LOSSY_APOSTROPHE = re.compile(r"(?<![\w’'])([A-Za-z]*[a-z])â(?=s\b)")
_ACCENTED = re.compile(r"[\u00c0-\u00e1\u00e3-\u024f]")
_MAX_SHOWN = 60


def _binary_kind(data: bytes) -> str | None:
    """Name the kind of binary file `data` is, or None if it looks like text."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    sample = data[:8192].replace(b"\x00", b"")
    if not sample:
        return "NUL bytes only"
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > len(sample) * 0.1:
        return "non-text bytes"
    return None


def _utf8_damage(data: bytes) -> tuple[str, int, int]:
    """Decode with replacement; return the text, valid multibyte chars and bad sequences."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return text, non_ascii - bad, bad


def _looks_western(data: bytes) -> bool:
    """High bytes mostly standing alone between ASCII: accented Latin, not a multibyte script."""
    runs = _HIGH_RUN.findall(data)
    return sum(len(run) == 1 for run in runs) * 2 >= len(runs)


def _detect(data: bytes) -> tuple[str, str]:
    """Decode a non-UTF-8 file, preferring cp1252 for Western text; return (text, encoding)."""
    if _looks_western(data):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    import charset_normalizer  # rare files only: its import is 30 ms of every build

    best = charset_normalizer.from_bytes(data).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding.startswith(_WESTERN_PREFIXES) or best is None:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            if best is None:
                return data.decode("latin-1"), "latin-1"
    assert best is not None
    return str(best), encoding


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Decode a note file's bytes to LF-only text, or None for a binary file."""
    problems: list[Problem] = []
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    elif data.startswith(_UTF16_BOMS):
        text = data.decode("utf-16", errors="replace")
        problems.append(problem(path, 0, "encoding", "decoded as UTF-16"))
        return normalise_newlines(text.removeprefix("\ufeff")), problems
    if not data:
        return "", problems
    kind = _binary_kind(data)
    if kind is not None:
        problems.append(problem(path, 0, "binary-file", f"not a text file ({kind}); skipped"))
        return None, problems
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
        problems.append(problem(path, 0, "encoding", "NUL bytes dropped"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        torn, valid, bad = _utf8_damage(data)
        if valid > 0 and bad <= valid:
            text = torn
            line = data.count(b"\n", 0, exc.start) + 1
            problems.append(
                problem(path, line, "encoding", f"{bad} invalid UTF-8 sequence(s) replaced")
            )
        else:
            text, encoding = _detect(data)
            problems.append(problem(path, 0, "encoding", f"not UTF-8; decoded as {encoding}"))
    # A second BOM (a file saved twice by different editors) is no text either.
    return normalise_newlines(text.removeprefix("\ufeff")), problems


def _changed_parts(before: str, after: str, context: int = 12) -> tuple[str, str]:
    """The changed stretch of two versions of a line, with a little context either side."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    limit = min(len(before), len(after)) - head
    while tail < limit and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    start = max(0, head - context)

    def cut(text: str) -> str:
        part = text[start : len(text) - max(0, tail - context)]
        part = part if len(part) <= _MAX_SHOWN else part[: _MAX_SHOWN - 1] + "…"
        return ("…" if start else "") + part + ("…" if tail > context else "")

    return cut(before), cut(after)


def repair(text: str, path: str, first_line: int = 1) -> tuple[str, list[Problem]]:
    """Fix mojibake line by line, one `mojibake` problem per changed line."""
    problems: list[Problem] = []
    if text.isascii():
        return text, problems
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.isascii():
            continue
        fixed = _fixer()(line)
        lossy = ""
        if "â" in fixed and not _ACCENTED.search(fixed):
            patched = _LOSSY_APOSTROPHE.sub(r"\1’", fixed)
            if patched != fixed:
                lossy = " (lost bytes guessed as ’)"
                fixed = patched
        if fixed != line:
            lines[number] = fixed
            shown_before, shown_after = _changed_parts(line, fixed)
            message = f"repaired{lossy}: {shown_before!r} → {shown_after!r}"
            problems.append(problem(path, first_line + number, "mojibake", message))
    return "\n".join(lines), problems


def _lines(text: str) -> list[str]:
    """Split on LF only, each line keeping its LF (unlike str.splitlines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _is_fence(line: str) -> bool:
    return line.rstrip() == "---"


def _glued(line: str) -> bool:
    """A text line with a note's opening `---` stuck to its end."""
    stripped = line.rstrip()
    return len(stripped) > 3 and stripped.endswith("---") and stripped[-4] != "-"


_YAMLISH_LINE = re.compile(r"[ \t]|- |-$|#|[^\s:][^:]*:(\s|$)")
_KEY_LINE = re.compile(r"[^\s:#-][^:]*:(\s|$)")
_RELATION_LINE = re.compile(r"[^\s:][^:]*::?[ \t]*!?\[\[")
# Real frontmatter is short; a longer block between rules is prose and not worth parsing.
_MAX_FRONTMATTER_LINES = 400


def _opens_note(block: list[str], glued: bool) -> bool:
    """Whether the lines between two fences hold a mapping, or broken YAML shaped like one."""
    text = "".join(block)
    if not text.strip() or len(block) > _MAX_FRONTMATTER_LINES:
        return False
    if not glued and all(_RELATION_LINE.match(line) for line in block if line.strip()):
        return False  # `label: [[x]]` lines between two rules are typed links, not a note
    try:
        data = yaml.load(text, Loader=FrontmatterLoader)
    except yaml.YAMLError:
        content = [line for line in block if line.strip()]
        return bool(_KEY_LINE.match(content[0])) and all(
            _YAMLISH_LINE.match(line) for line in content
        )
    except (RecursionError, ValueError, OverflowError):
        return False
    return isinstance(data, dict) and bool(data)


def _fence_lines(lines: list[str]) -> Iterator[int]:
    """Indexes of lines outside code blocks that end with `---`."""
    for index, line, in_code in code_lines(lines, bare_close=True):
        if not in_code and line.rstrip().endswith("---"):
            yield index


def _preamble_only(lines: list[str]) -> bool:
    """Only blank lines, headings or Templater tags: what may precede misplaced frontmatter."""
    return all(not line.strip() or line.startswith("#") or "<%" in line for line in lines)


def split_notes(text: str, path: str) -> list[RawNote]:
    """Cut LF-only text into notes: frontmatter at line 1, and later `---` YAML blocks."""
    return _split(text, path)[0]


def _split(text: str, path: str) -> tuple[list[RawNote], list[int]]:
    """The notes of a text, and the 1-based lines of frontmatter left in a body."""
    misplaced: list[int] = []
    lines = _lines(text)
    dashes = [i for i in _fence_lines(lines) if _is_fence(lines[i]) or _glued(lines[i])]
    # Each note: (opening line index, frontmatter end index or None); -1 means no opener.
    starts: list[tuple[int, int | None]] = []
    if lines and _is_fence(lines[0]):
        closers = [i for i in dashes if i > 0 and _is_fence(lines[i])]
        if closers:
            starts.append((0, closers[0]))
    if not starts:
        starts.append((-1, None))
    for k, opener in enumerate(dashes):
        last_end = starts[-1][1]
        if last_end is not None and opener <= last_end:
            continue
        if k + 1 >= len(dashes):
            break
        close = dashes[k + 1]
        if not _is_fence(lines[close]) or close == opener + 1:
            continue
        if _opens_note(lines[opener + 1 : close], glued=not _is_fence(lines[opener])):
            first = starts == [(-1, None)] and _is_fence(lines[opener])
            if first and _preamble_only(lines[:opener]):
                misplaced.append(opener + 1)
                continue
            starts.append((opener, close))
    notes: list[RawNote] = []
    for index, (opener, closer) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        body_start = closer + 1 if closer is not None else max(opener, 0)
        body_lines = lines[body_start:end]
        if index + 1 < len(starts):
            nxt = starts[index + 1][0]
            if not _is_fence(lines[nxt]):
                # A glued opener: the text before the `---` ends this note's body.
                kept = lines[nxt].rstrip()[:-3]
                body_lines.append(kept + lines[nxt][len(lines[nxt].rstrip()) :])
        frontmatter = "".join(lines[opener + 1 : closer]) if closer is not None else None
        notes.append(
            RawNote(
                path=path,
                index=index,
                line=max(opener, 0) + 1,
                frontmatter=frontmatter,
                frontmatter_line=opener + 2 if closer is not None else 0,
                body="".join(body_lines),
                body_line=body_start + 1,
            )
        )
    return notes, misplaced


def read_notes(data: bytes, path: str) -> tuple[list[RawNote], list[Problem]]:
    """Decode, repair and split one note file; a binary file gives no notes."""
    text, problems = decode(data, path)
    if text is None:
        return [], problems
    text, repaired = repair(text, path)
    problems.extend(repaired)
    notes, misplaced = _split(text, path)
    message = "frontmatter after a heading or template preamble; kept as body text"
    problems.extend(problem(path, line, "misplaced-frontmatter", message) for line in misplaced)
    return notes, problems
