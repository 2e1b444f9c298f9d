"""Problems found while reading, linking, executing or rendering a vault.

Every problem has a stable kebab-case code, a severity and a `file:line` so a user can
jump to it. Stages return problems; they never print or raise for bad input.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

# code -> default severity. The codes are a public contract: add, never rename.
CODES: dict[str, Severity] = {
    "bad-frontmatter": "warning",
    "misplaced-frontmatter": "warning",
    "duplicate-key": "warning",
    "bad-date": "warning",
    "encoding": "warning",
    "mojibake": "warning",
    "binary-file": "warning",
    "unreadable-file": "error",
    "unresolved-link": "warning",
    "ambiguous-link": "warning",
    "alias-link": "info",
    "loose-link": "info",
    "external-wikilink": "warning",
    "empty-link": "warning",
    "missing-anchor": "warning",
    "duplicate-concept": "info",
    "conflict-copy": "warning",
    "unsafe-path": "warning",
    "bad-file-name": "warning",
    "unclosed-fence": "warning",
    "math-error": "warning",
    "markdown-error": "error",
    "embed-cycle": "warning",
    "missing-embed": "warning",
    "cell-error": "warning",
    "cell-timeout": "warning",
    "cell-stale": "warning",
    "duplicate-label": "warning",
    "missing-figure": "warning",
    "template-error": "error",
    "cache-corrupt": "warning",
    "cache-unsaved": "warning",
    "config-error": "error",
    "search-index": "warning",
    "render-error": "error",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One coded finding at `file:line`.

    `file` is vault-relative and POSIX; `line` is 1-based, 0 for the whole file.
    """

    file: str
    line: int
    code: str
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        return problem_line(self)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


# Control characters (a newline in a file name, a tab in a message) would break the one
# line per problem that editors and scripts read.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def problem_line(p: Problem, folder: str = "") -> str:
    """`file:line: code message` on one line, the file under `folder` if given."""
    where = os.path.join(folder, p.file) if folder and p.file else (p.file or folder)
    return f"{_visible(where)}:{p.line}: {p.code} {_visible(p.message)}"


def problem(file: str, line: int, code: str, message: str) -> Problem:
    """Make a problem with the code's default severity."""
    if code not in CODES:
        raise ValueError(f"unknown problem code {code!r}")
    return Problem(file=file, line=line, code=code, message=message, severity=CODES[code])
