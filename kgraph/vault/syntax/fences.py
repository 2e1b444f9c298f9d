"""Which lines of a text lie in fenced code: for the line-based passes that run before
(or beside) markdown-it, so they never touch what a code block shows verbatim."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# A ``` or ~~~ fence indented at most three spaces (CommonMark).
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def code_lines(
    lines: Iterable[str], opener: re.Pattern[str] = FENCE, *, bare_close: bool = False
) -> Iterator[tuple[int, str, bool]]:
    """Each line as (index, line, in_code); fence lines themselves count as code.

    A fence closes on a line of the same character at least as long; with `bare_close`
    that line must hold nothing else (a closing fence takes no info string).
    """
    fence: str | None = None
    for index, line in enumerate(lines):
        match = opener.match(line)
        if match:
            mark = match.group(1)
            if fence is None:
                fence = mark
            elif (
                mark[0] == fence[0]
                and len(mark) >= len(fence)
                and (not bare_close or not line.strip(" `~\n"))
            ):
                fence = None
            yield index, line, True
            continue
        yield index, line, fence is not None
