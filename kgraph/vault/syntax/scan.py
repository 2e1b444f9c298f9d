"""Shared helpers for the syntax plugins: memoised searches, absolute lines, problems."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from kgraph.problems import Problem, problem
from kgraph.vault.hooks import PlainHooks, RenderHooks


def find_from(env: MutableMapping[str, Any], src: str, needle: str, start: int) -> int:
    """`src.find(needle, start)`, memoised so repeated openers on one long line stay linear."""
    memo: dict[str, tuple[str, int, int]] = env.setdefault("_kg_find", {})
    hit = memo.get(needle)
    # a previous search from `lo` found `res`; any start in [lo, res] gives the same answer
    if hit is not None and hit[0] is src and hit[1] <= start and (hit[2] < 0 or start <= hit[2]):
        return hit[2]
    res = src.find(needle, start)
    memo[needle] = (src, start, res)
    return res


def add_problem(env: MutableMapping[str, Any], offset: int, code: str, message: str) -> None:
    """Record a problem at `offset` lines below the start of the body."""
    problems: list[Problem] = env.setdefault("kg_problems", [])
    line = int(env.get("kg_body_line", 1)) + offset
    problems.append(problem(str(env.get("kg_path", "")), line, code, message))


def hooks_of(env: MutableMapping[str, Any]) -> RenderHooks:
    """The render hooks passed in `env["hooks"]`, or plain ones."""
    hooks = env.get("hooks")
    return hooks if hooks is not None else PlainHooks()
