"""Interpret a cell's `#| key: value` options (Quarto names) into typed settings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class CellOptions:
    """The options kgraph acts on; `extra` keeps every other option as written."""

    label: str | None = None
    caption: str | tuple[str, ...] = ""
    echo: bool = True
    eval: bool = True
    timeout: float | None = None
    depends: tuple[str, ...] = ()
    exec: bool = False
    extra: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The interpreted options as a plain dict (the shape `CellResult.options` carries)."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "label": self.label,
                "fig-cap": list(self.caption) if isinstance(self.caption, tuple) else self.caption,
                "echo": self.echo,
                "eval": self.eval,
                "timeout": self.timeout,
                "depends": list(self.depends),
                "exec": self.exec,
            }
        )
        return out

    def caption_for(self, n: int) -> str:
        """Caption of the n-th (0-based) figure of the cell: a list gives one per figure."""
        if isinstance(self.caption, tuple):
            return self.caption[n] if n < len(self.caption) else ""
        return self.caption


def _flag(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return default


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if 0 < value < math.inf else None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|sec|seconds?)?\s*", value)
        if match:
            seconds = float(match.group(1))
            return seconds if seconds > 0 else None
    return None


def _files(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,\s]+", str(value))
    return tuple(str(item).strip() for item in items if str(item).strip())


def _caption(value: Any) -> str | tuple[str, ...]:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return tuple("" if item is None else str(item) for item in value)
    return str(value)


_KNOWN = {"label", "fig-cap", "caption", "echo", "eval", "timeout", "depends", "exec"}


def interpret_options(options: dict[str, Any]) -> CellOptions:
    """Read the raw option mapping; unknown or malformed values fall back to defaults."""
    label = options.get("label")
    caption = options.get("fig-cap", options.get("caption"))
    extra = tuple(sorted((str(k), v) for k, v in options.items() if k not in _KNOWN))
    return CellOptions(
        label=str(label).strip() or None if label is not None else None,
        caption=_caption(caption),
        echo=_flag(options.get("echo"), True),
        eval=_flag(options.get("eval"), True),
        timeout=_seconds(options.get("timeout")),
        depends=_files(options.get("depends")),
        exec=_flag(options.get("exec"), False),
        extra=extra,
    )
