"""Read a note's YAML frontmatter into normalised fields: title, aliases, tags, date, links."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from kgraph.problems import Problem, problem
from kgraph.vault.note import Link, RawNote
from kgraph.vault.taglimits import within_limits
from kgraph.vault.yamlsize import MAX_VALUES, may_alias, too_big


class FrontmatterLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The C safe loader where available; impossible dates stay strings."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """`2024-13-45` is a bad date, not a reason to lose the whole frontmatter."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# Fields whose wikilinks are names of this note or styling, not relations to others.
_NOT_RELATIONS = frozenset({"title", "aliases", "alias", "tags", "tag", "cssclasses", "cssclass"})
_TOP_KEY = re.compile(
    r"""^(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#:\-?\[{'"][^:\n]*?))[ \t]*:(?:[ \t]|$)""", re.M
)
_WIKILINK = re.compile(r"\[\[(.+?)\]\](?!\])")
_UNQUOTED_LINKS = re.compile(r"^([^\s#:\-][^:\n]*:[ \t]+)(\[\[[^\n]*\]\][^\n'\"]*)$", re.M)
_TAG_FORBIDDEN = frozenset("!\"#$%&'()*+,.:;<=>?@[\\]^`{|}~")
_PLACEHOLDER = re.compile(r"\{\{.*\}\}|<%.*%>|YYYY|\bMM\b|\bDD\b", re.I)
# Unix times beyond this are milliseconds (this is the year 5138 in seconds).
_MAX_SECONDS = 1e11


@dataclass(frozen=True)
class Frontmatter:
    """A note's frontmatter, normalised; `data` holds every field, JSON-safe."""

    data: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    draft: bool = False
    links: tuple[Link, ...] = ()
    problems: tuple[Problem, ...] = ()


def snake_case(label: str) -> str:
    """A relation name from a label: "See also" -> "see_also", "seeAlso" -> "see_also"."""
    text = unicodedata.normalize("NFC", label.strip())
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[\W_]+", "_", text.casefold()).strip("_")


def parse_wikilink_text(inner: str) -> tuple[str, str | None, str | None]:
    """Split `target#subpath|display` at the first `|` (or `\\|`), then the first `#`."""
    inner = inner.replace("\\|", "|")
    path, bar, display = inner.partition("|")
    target, hash_, subpath = path.partition("#")
    return target.strip(), (subpath.strip() if hash_ else None), (display if bar else None)


class _DuplicateKeyLoader(yaml.SafeLoader):
    """The pure-Python safe loader, recording repeated mapping keys."""

    duplicates: list[tuple[str, int]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    self.duplicates.append((str(key), key_node.start_mark.line))
                seen.add(key)
            except TypeError:
                continue
        return super().construct_mapping(node, deep=deep)


FrontmatterLoader.add_constructor(_TIMESTAMP, _lenient_timestamp)
_DuplicateKeyLoader.add_constructor(_TIMESTAMP, _lenient_timestamp)


def _key_lines(text: str) -> dict[str, int]:
    """Top-level keys and the 0-based line of their last occurrence."""
    lines: dict[str, int] = {}
    for match in _TOP_KEY.finditer(text):
        key = next(group for group in match.groups() if group is not None).strip()
        lines[key] = text.count("\n", 0, match.start())
    return lines


def _has_repeated_key(text: str) -> bool:
    keys = [next(g for g in m.groups() if g is not None).strip() for m in _TOP_KEY.finditer(text)]
    return len(keys) != len(set(keys))


def _load(raw: RawNote, text: str) -> tuple[Any, list[Problem]]:
    """Load YAML safely; a repeated key re-runs the slow loader to name it."""
    problems: list[Problem] = []
    try:
        if _has_repeated_key(text):
            loader = _DuplicateKeyLoader(text)
            loader.duplicates = []
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
            for key, line in loader.duplicates:
                message = f"key {key!r} repeated; the last value wins"
                problems.append(
                    problem(raw.path, raw.frontmatter_line + line, "duplicate-key", message)
                )
            return data, problems
        return yaml.load(text, Loader=FrontmatterLoader), problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = raw.frontmatter_line + (mark.line if mark is not None else 0)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(problem(raw.path, line, "bad-frontmatter", f"invalid YAML: {reason}"))
    except (RecursionError, ValueError, OverflowError, TypeError) as exc:
        problems.append(
            problem(raw.path, raw.frontmatter_line, "bad-frontmatter", f"invalid YAML: {exc}")
        )
    return None, problems


def _load_with_quoted_links(text: str) -> Any:
    """Retry broken YAML with `key: [[a]], [[b]]` values quoted; None if that fails too."""
    fixed = _UNQUOTED_LINKS.sub(lambda m: m.group(1) + json.dumps(m.group(2)), text)
    if fixed == text:
        return None
    try:
        return yaml.load(fixed, Loader=FrontmatterLoader)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError, TypeError):
        return None


def _as_link_text(value: Any) -> str | None:
    """`[[x]]` unquoted in YAML loads as [["x"]]: give back "x"."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        inner = value[0]
        if (
            len(inner) == 1
            and isinstance(inner[0], str | int | float)
            and not isinstance(inner[0], bool)
        ):
            return str(inner[0])
    return None


def _json_safe(value: Any) -> Any:
    """Make a YAML value JSON-serialisable, turning nested-list wikilinks back into `[[x]]`."""
    link = _as_link_text(value)
    if link is not None:
        return f"[[{link}]]"
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_json_safe(v) for v in items]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _links_in(text: str) -> Iterator[tuple[str, str | None, str | None]]:
    for match in _WIKILINK.finditer(text):
        target, subpath, display = parse_wikilink_text(match.group(1))
        if target or subpath:
            yield target, subpath, display


def _names(value: Any) -> list[str]:
    """Aliases as a list of names: list, comma-separated string or null; `[[X]]` gives X."""
    if value is None:
        return []
    items = (
        value.split(",")
        if isinstance(value, str)
        else value
        if isinstance(value, list)
        else [value]
    )
    names: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        text = str(item).strip()
        links = list(_links_in(text))
        if links:
            names.extend(target for target, _, _ in links if target)
        elif text:
            names.append(text)
    return list(dict.fromkeys(names))


def _valid_tag(tag: str) -> bool:
    return (
        bool(tag)
        and within_limits(tag)
        and not any(c.isspace() for c in tag)
        and not tag.replace("/", "").isdigit()
        and not (_TAG_FORBIDDEN & set(tag))
    )


def normalise_tags(value: Any) -> tuple[str, ...]:
    """Tags from a list or a comma/space separated string: no '#', case-folded, deduped."""
    if value is None or isinstance(value, bool):
        return ()
    # A scalar is a comma/space separated string; list items are whole tags.
    words: list[Any] = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
    tags: list[str] = []
    for item in words:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        tag = str(item).strip().lstrip("#").strip("/").casefold()
        if _valid_tag(tag):
            tags.append(tag)
    return tuple(dict.fromkeys(tags))


def normalise_date(value: Any) -> str | None:
    """ISO 8601 UTC from a Unix number, ISO string or YAML date; None if it is not a date."""
    when: dt.datetime
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                value = dt.datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                return None
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        if abs(seconds) > _MAX_SECONDS:
            seconds /= 1000
        try:
            when = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, dt.datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        when = when.astimezone(dt.UTC)
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        return None
    return when.isoformat()


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "yes"})


def _falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in {"false", "no"})


def parse_frontmatter(raw: RawNote) -> Frontmatter:
    """Load and normalise a note's frontmatter; bad input gives problems, never an exception."""
    if raw.frontmatter is None or not raw.frontmatter.strip():
        return Frontmatter()
    loaded, problems = _load(raw, raw.frontmatter)
    if loaded is None and problems:
        loaded = _load_with_quoted_links(raw.frontmatter)
    if loaded is None:
        return Frontmatter(problems=tuple(problems))
    if may_alias(raw.frontmatter) and too_big(loaded):
        message = f"invalid YAML: its aliases expand to over {MAX_VALUES:,} values"
        problems.append(problem(raw.path, raw.frontmatter_line, "bad-frontmatter", message))
        return Frontmatter(problems=tuple(problems))
    if not isinstance(loaded, dict):
        message = f"frontmatter is a {type(loaded).__name__}, not a mapping"
        problems.append(problem(raw.path, raw.frontmatter_line, "bad-frontmatter", message))
        return Frontmatter(problems=tuple(problems))
    data: dict[str, Any] = _json_safe(loaded)
    key_lines = _key_lines(raw.frontmatter)

    def line_of(key: str) -> int:
        return raw.frontmatter_line + key_lines.get(key, 0)

    title_value = data.get("title")
    title = None
    if isinstance(title_value, str | int | float) and not isinstance(title_value, bool):
        title = str(title_value).strip()
        found = list(_links_in(title))
        if found and title.startswith("[[") and title.endswith("]]"):
            title = found[0][0]
        title = title or None

    aliases = _names(data.get("aliases", data.get("alias")))
    tags = normalise_tags(data["tags"] if "tags" in data else data.get("tag"))

    date = None
    date_key = "date" if data.get("date") is not None else "created"
    date_value = loaded.get(date_key)
    if date_value is not None:
        date = normalise_date(date_value)
        if date is None:
            kind = "a placeholder" if _PLACEHOLDER.search(str(date_value)) else "not a date"
            message = f"{date_key}: {str(date_value)[:40]!r} is {kind}"
            problems.append(problem(raw.path, line_of(date_key), "bad-date", message))

    params_value = data.get("params")
    params: dict[str, Any] = {}
    if isinstance(params_value, dict):
        params = params_value
    elif params_value is not None:
        message = f"params must be a mapping, not {type(params_value).__name__}; ignored"
        problems.append(problem(raw.path, line_of("params"), "bad-frontmatter", message))

    draft = _truthy(data.get("draft")) or _falsy(data.get("publish"))

    links: list[Link] = []
    for key, value in data.items():
        if key.casefold() in _NOT_RELATIONS:
            continue
        relation = snake_case(key) or "links_to"
        for text in _strings(value):
            for target, subpath, display in _links_in(text):
                links.append(
                    Link(
                        target=target,
                        line=line_of(key),
                        relation=relation,
                        subpath=subpath,
                        display=display,
                        kind="frontmatter",
                    )
                )
    return Frontmatter(
        data=data,
        title=title,
        aliases=tuple(aliases),
        tags=tags,
        date=date,
        params=params,
        draft=draft,
        links=tuple(links),
        problems=tuple(problems),
    )
