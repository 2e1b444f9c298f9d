"""Frontmatter loading and normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.vault.frontmatter import (
    normalise_date,
    parse_frontmatter,
    parse_wikilink_text,
    snake_case,
)
from kgraph.vault.note import RawNote
from kgraph.vault.source import read_notes


def raw(yaml_text: str, fm_line: int = 2) -> RawNote:
    return RawNote("n.md", 0, fm_line - 1, yaml_text, fm_line, "", fm_line + 2)


def test_unix_float_date_from_vault(reading: Path) -> None:
    notes, _ = read_notes((reading / "unix-dates/float.md").read_bytes(), "float.md")
    assert parse_frontmatter(notes[0]).date == "2024-03-01T12:00:00.123456+00:00"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("int.md", "2024-03-01T12:00:00+00:00"),
        ("yaml-date.md", "2024-03-01T12:30:00+00:00"),
        ("placeholder.md", None),
    ],
)
def test_dates_from_vault(reading: Path, name: str, expected: str | None) -> None:
    notes, _ = read_notes((reading / "unix-dates" / name).read_bytes(), name)
    fm = parse_frontmatter(notes[0])
    assert fm.date == expected
    assert [p.code for p in fm.problems] == ([] if expected else ["bad-date"])
    json.dumps(fm.data)  # every value JSON-safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01", "2024-03-01T00:00:00+00:00"),
        ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00+00:00"),
        ("2024-03-01 08:00", "2024-03-01T08:00:00+00:00"),
        ("1709294400", "2024-03-01T12:00:00+00:00"),
        (1709294400123, "2024-03-01T12:00:00.123000+00:00"),
        ("{{date}}", None),
        ("yesterday", None),
        (True, None),
        (float("nan"), None),
        (10**30, None),
    ],
)
def test_normalise_date(value: object, expected: str | None) -> None:
    assert normalise_date(value) == expected


def test_malformed_yaml_line_in_second_note(reading: Path) -> None:
    notes, _ = read_notes((reading / "concatenated/broken-second.md").read_bytes(), "b.md")
    fm = parse_frontmatter(notes[1])
    assert [(p.code, p.line) for p in fm.problems] == [("bad-frontmatter", 7)]
    assert fm.title is None
    assert notes[1].body == "second body\n"


def test_tab_yaml_reports_its_line(reading: Path) -> None:
    notes, _ = read_notes((reading / "malformed-yaml/tab.md").read_bytes(), "tab.md")
    fm = parse_frontmatter(notes[0])
    assert [(p.code, p.line) for p in fm.problems] == [("bad-frontmatter", 4)]
    assert notes[0].body == "body stays\n"


def test_unquoted_template_placeholder_is_bad_frontmatter(reading: Path) -> None:
    notes, _ = read_notes((reading / "malformed-yaml/placeholder.md").read_bytes(), "p.md")
    fm = parse_frontmatter(notes[0])
    assert [(p.code, p.line) for p in fm.problems] == [("bad-frontmatter", 3)]


def test_unquoted_and_quoted_wikilinks_become_links() -> None:
    fm = parse_frontmatter(
        raw(
            "title: X\n"
            "up: [[Parent]]\n"
            'See also: ["[[A#Sec]]", "[[B|shown]]"]\n'
            "related:\n"
            "  - [[C]]\n"
            "  - - - D|d\n"
            "aliases: [[Alias Target]]\n"
            "tags: [[t]]\n"
        )
    )
    assert fm.data["up"] == "[[Parent]]"
    assert fm.data["related"] == ["[[C]]", "[[D|d]]"]
    got = [(ln.target, ln.relation, ln.line, ln.subpath, ln.display) for ln in fm.links]
    assert got == [
        ("Parent", "up", 3, None, None),
        ("A", "see_also", 4, "Sec", None),
        ("B", "see_also", 4, None, "shown"),
        ("C", "related", 5, None, None),
        ("D", "related", 5, None, "d"),
    ]
    assert all(ln.kind == "frontmatter" for ln in fm.links)
    assert fm.aliases == ("Alias Target",)


def test_duplicate_key_last_wins() -> None:
    fm = parse_frontmatter(raw("title: One\nother: 1\ntitle: Two\n", fm_line=5))
    assert fm.title == "Two"
    assert [(p.code, p.line) for p in fm.problems] == [("duplicate-key", 7)]


def test_nested_repeated_names_are_not_duplicates() -> None:
    fm = parse_frontmatter(raw("a:\n  x: 1\nb:\n  x: 2\n"))
    assert fm.problems == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[a, '#B', a/b-c, 1984, A]", ("a", "b", "a/b-c")),
        ("'#one, two three'", ("one", "two", "three")),
        ("", ()),
        ("['bad tag!', ok]", ("ok",)),
    ],
)
def test_tags(value: str, expected: tuple[str, ...]) -> None:
    assert parse_frontmatter(raw(f"tags: {value}\n")).tags == expected


@pytest.mark.timeout(60)  # it never ended before the limit
def test_tags_too_long_or_too_deep_are_dropped() -> None:
    deepest, longest = "a/" * 15 + "b", "c" * 200
    value = f"[{deepest}, {longest}, {'d/' * 16}e, {'f' * 201}, {'g/' * 3000}h]"
    assert parse_frontmatter(raw(f"tags: {value}\n")).tags == (deepest, longest)


def test_tag_key_and_alias_key_and_string_aliases() -> None:
    fm = parse_frontmatter(raw("tag: x\nalias: One, Two\n"))
    assert fm.tags == ("x",)
    assert fm.aliases == ("One", "Two")
    assert parse_frontmatter(raw("aliases:\n")).aliases == ()


def test_title_params_draft_and_json() -> None:
    fm = parse_frontmatter(raw('{"title": 1984, "params": {"n": 3}, "publish": false}\n'))
    assert (fm.title, fm.params, fm.draft) == ("1984", {"n": 3}, True)
    bad = parse_frontmatter(raw("title: '  '\nparams: [1]\ndraft: true\nwhen: 2024-01-02\n"))
    assert bad.title is None and bad.params == {} and bad.draft
    assert [p.code for p in bad.problems] == ["bad-frontmatter"]
    assert bad.data["when"] == "2024-01-02"


def test_impossible_date_keeps_the_rest() -> None:
    fm = parse_frontmatter(raw("title: A\ndate: 2024-13-45\n"))
    assert fm.title == "A" and fm.date is None and fm.data["date"] == "2024-13-45"
    assert [(p.code, p.line) for p in fm.problems] == [("bad-date", 3)]


def test_created_used_when_no_date() -> None:
    assert parse_frontmatter(raw("created: 2024-01-02\n")).date == "2024-01-02T00:00:00+00:00"


def test_non_mapping_frontmatter() -> None:
    fm = parse_frontmatter(raw("- a\n- b\n"))
    assert [p.code for p in fm.problems] == ["bad-frontmatter"]
    assert fm.data == {}


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("See also", "see_also"),
        ("Preceding", "preceding"),
        ("seeAlso", "see_also"),
        ("  Related  Topics: ", "related_topics"),
        ("déjà-vu", "déjà_vu"),
    ],
)
def test_snake_case(label: str, expected: str) -> None:
    assert snake_case(label) == expected


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("T#H|text", ("T", "H", "text")),
        ("T", ("T", None, None)),
        ("T\\|shown", ("T", None, "shown")),
        ("a#b#c|x|y", ("a", "b#c", "x|y")),
        ("#^block", ("", "^block", None)),
        ("a|", ("a", None, "")),
    ],
)
def test_parse_wikilink_text(inner: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parse_wikilink_text(inner) == expected


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_parse_frontmatter_never_raises(text: str) -> None:
    fm = parse_frontmatter(raw(text))
    json.dumps(fm.data)
    assert all(p.line >= 2 for p in fm.problems)


def test_comma_separated_unquoted_links_are_recovered() -> None:
    fm = parse_frontmatter(raw("title: T\nrelated: [[A]], [[B|b]]\n"))
    assert [p.code for p in fm.problems] == ["bad-frontmatter"]
    assert fm.title == "T"
    assert [(ln.target, ln.relation, ln.line) for ln in fm.links] == [
        ("A", "related", 3),
        ("B", "related", 3),
    ]


def _laughs(levels: int) -> str:
    """YAML whose last anchor, aliases expanded, holds 9 ** levels strings."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(60)  # it never ended before the limit
def test_aliases_that_expand_without_end_are_bad_frontmatter() -> None:
    # 9 ** 9 values: normalising them used to hang the build.
    fm = parse_frontmatter(raw(_laughs(9) + "title: Bomb\ntags: *l8\n", fm_line=4))
    assert [(p.code, p.line) for p in fm.problems] == [("bad-frontmatter", 4)]
    assert "aliases" in fm.problems[0].message
    assert fm.title is None and fm.data == {} and fm.tags == ()
    # A list that holds itself is endless too.
    loop = parse_frontmatter(raw("title: Loop\nself: &s [1, *s]\n"))
    assert [p.code for p in loop.problems] == ["bad-frontmatter"] and loop.title is None


def test_aliases_of_ordinary_size_are_expanded() -> None:
    fm = parse_frontmatter(raw(_laughs(3) + "shared: &t [x, y]\ntags: *t\ntitle: '*T*'\n"))
    assert fm.problems == ()
    assert fm.tags == ("x", "y") and fm.title == "*T*"
    assert len(fm.data["l2"]) == 9 and fm.data["l2"][8][0] == ["lol"] * 9
