"""Human-readable text for query results (the `--format text` face of kgraph query)."""

from __future__ import annotations

from typing import Any


def _name(row: dict[str, Any]) -> str:
    title, key = row.get("title", ""), row.get("key", "")
    return f"{title} [{key}]" if title and concept_fold(title) != key else str(title or key)


def concept_fold(text: str) -> str:
    """Casefolded, whitespace-collapsed text, to hide keys that merely repeat the title."""
    return " ".join(str(text).casefold().split())


def _show(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['title']} ({result['kind']})", f"  key: {result['key']}"]
    if result.get("aliases"):
        lines.append("  aliases: " + ", ".join(result["aliases"]))
    if result.get("tags"):
        lines.append("  tags: " + ", ".join("#" + t for t in result["tags"]))
    for note in result.get("notes", []):
        date = f"  {note['date']}" if note.get("date") else ""
        lines.append(f"  note: {note['path']}:{note['line']}{date}")
    lines += [f"  -> {e['relation']} {e['target']}" for e in result.get("out", [])]
    lines += [f"  <- {e['relation']} {e['source']}" for e in result.get("in", [])]
    lines += [f"  figure: {f['label']} {f['caption']}".rstrip() for f in result.get("figures", [])]
    return lines


def _row(row: dict[str, Any]) -> str:
    parts = [_name(row)]
    if "relation" in row:
        arrow = "<-" if row.get("direction") == "in" else "->"
        parts.insert(0, f"{arrow} {row['relation']}")
    if row.get("depth", 1) != 1:
        parts.append(f"(depth {row['depth']})")
    if "score" in row:
        parts.append(f"{row['score']:g}")
    if row.get("wanted_by"):
        parts.append("wanted by " + ", ".join(row["wanted_by"]))
    if "caption" in row:
        parts = [f"{row['concept']}#{row['label']}", str(row["caption"])]
    return "  ".join(p for p in parts if p)


def format_text(verb: str, result: Any) -> str:
    """Text for one verb's result: one line per item, `(none)` when empty."""
    if verb == "show":
        lines = _show(result)
    elif verb == "path":
        if not result["path"]:
            lines = ["no path"]
        else:
            text = result["path"][0]
            for rel, node in zip(result["relations"], result["path"][1:], strict=True):
                text += f" -{rel}-> {node}"
            lines = [text]
    elif verb == "relations":
        lines = [f"{rel}  {count}" for rel, count in result.items()]
    else:
        lines = [_row(row) for row in result]
    return "\n".join(lines) if lines else "(none)"
