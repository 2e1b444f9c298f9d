"""Decoding, mojibake repair and note splitting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.vault.source import decode, read_notes, repair, split_notes


def codes(problems: list) -> list[str]:
    return [p.code for p in problems]


def read(vault: Path, rel: str):
    return read_notes((vault / rel).read_bytes(), rel)


# --- decoding ---------------------------------------------------------------


def test_bom_crlf_and_lone_cr_are_normalised(reading: Path) -> None:
    notes, problems = read(reading, "empty-and-binary/crlf-bom.md")
    assert problems == []
    assert len(notes) == 1
    assert notes[0].frontmatter == "title: Windows\n"
    assert notes[0].body == "line one\nline two\n"
    assert notes[0].body_line == 4


def test_cp1252_is_detected_with_a_warning(reading: Path) -> None:
    notes, problems = read(reading, "cp1252/cafe.md")
    assert notes[0].body == "café – naïve déjà vu\n"
    assert codes(problems) == ["encoding"]
    assert "cp1252" in problems[0].message


def test_gb18030_is_detected_with_a_warning(reading: Path) -> None:
    notes, problems = read(reading, "gb18030/chinese.md")
    assert notes[0].frontmatter == "title: 中文\n"
    assert notes[0].body == "这是一个中文测试文本，用于检测编码。\n"
    assert codes(problems) == ["encoding"]
    assert "gb18030" in problems[0].message


def test_torn_utf8_keeps_utf8_and_replaces_bad_bytes() -> None:
    text, problems = decode("naïve\n".encode() + b"bad \xff byte\n" + "é’\n".encode(), "t.md")
    assert text == "naïve\nbad \ufffd byte\né’\n"
    assert codes(problems) == ["encoding"]
    assert problems[0].line == 2


def test_nul_runs_are_dropped(reading: Path) -> None:
    notes, problems = read(reading, "empty-and-binary/nul-runs.md")
    assert notes[0].body == "hello world\n"
    assert codes(problems) == ["encoding"]


def test_zip_saved_as_md_is_binary(reading: Path) -> None:
    notes, problems = read(reading, "empty-and-binary/archive.md")
    assert notes == []
    assert codes(problems) == ["binary-file"]


def test_binary_signatures_and_control_bytes() -> None:
    for data in (b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n\x00", b"\xff\xd8\xff\xe0", b"GIF89a"):
        assert decode(data, "x.md")[0] is None
    assert decode(bytes(range(1, 9)) * 20, "x.md")[0] is None


def test_empty_file_is_one_empty_note(reading: Path) -> None:
    notes, problems = read(reading, "empty-and-binary/empty.md")
    assert problems == []
    assert [(n.body, n.frontmatter, n.line, n.body_line) for n in notes] == [("", None, 1, 1)]


# --- mojibake -------------------------------------------------------------


def test_mojibake_repaired_per_line(reading: Path) -> None:
    notes, problems = read(reading, "mojibake/alpha.md")
    body = notes[0].body.split("\n")
    assert body[0] == "The rate α and β matter."
    assert body[1] == "Clean line — “quoted” naïve café 中文."
    assert body[2] == "The model’s output was it’s fine."
    assert [(p.code, p.line) for p in problems] == [("mojibake", 4), ("mojibake", 6)]
    assert "'The rate Î± and Î² matter.' → 'The rate α and β matter.'" in problems[0].message
    long_line = "x" * 100 + " Î± " + "y" * 100
    message = repair(long_line, "l.md")[1][0].message
    assert "'…xxxxxxxxxxx Î± yyyyyyyyyyy…' → '…xxxxxxxxxxx α yyyyyyyyyyy…'" in message
    assert "lost bytes" in problems[1].message


def test_lossy_possessive_only_after_lowercase() -> None:
    text, problems = repair("âs alone, Mâs, the catâs toy, catâsuit", "x.md")
    assert text == "âs alone, Mâs, the cat’s toy, catâsuit"
    assert len(problems) == 1


def test_lossy_possessive_leaves_romanian_alone() -> None:
    for line in ("Ce a rămâs din pâs și Mâs?", "Un pâs, o căsuță."):
        assert repair(line, "ro.md") == (line, [])


VALID_SAMPLES = [
    "naïve café — “quotes”",
    "中文测试，你好",
    "日本語のテキスト",
    "Ωμέγα",
    "½ ü ß",
    "👍",
]
# Random characters outside Latin-1/Latin Extended and cp1252 punctuation: ftfy may rightly
# treat pairs like "Ã©" as mojibake, so those come only from the fixed samples above.
SAFE_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Co", "Cn"),
    blacklist_characters="\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030\u2039\u203a\u20ac\u2122",
    min_codepoint=0x20,
).filter(lambda c: not 0x80 <= ord(c) <= 0x2FF)


@given(st.lists(st.one_of(st.text(SAFE_CHARS, max_size=30), st.sampled_from(VALID_SAMPLES))))
@settings(max_examples=150, deadline=None)
def test_valid_text_is_never_altered(parts: list[str]) -> None:
    text = "\n".join(parts)
    fixed, problems = repair(text, "x.md")
    assert fixed == text
    assert problems == []


# --- splitting ------------------------------------------------------------


def test_glued_fence_splits_concatenated_notes(reading: Path) -> None:
    notes, problems = read(reading, "concatenated/Synaptic plasticity.md")
    assert problems == []
    assert [n.index for n in notes] == [0, 1]
    first, second = notes
    assert first.line == 1 and first.frontmatter_line == 2 and first.body_line == 8
    assert first.body.endswith("preceding: [[Hebbian learning]]  \nfollowing: [[STDP]]\n")
    assert "---\n\npreceding" in first.body  # the horizontal rule stays body text
    assert second.line == 15 and second.frontmatter_line == 16 and second.body_line == 19
    assert second.frontmatter == "title: Synaptic plasticity\ndate: 1709380800.5\n"
    assert second.body == "### Second version\n\nSee also: [[LTP]]"


def test_rule_followed_by_unclosed_prose_is_not_a_boundary(reading: Path) -> None:
    notes, _ = read(reading, "concatenated/rule-prose.md")
    assert len(notes) == 1
    assert "Status: this line" in notes[0].body


def test_rule_around_non_mapping_is_not_a_boundary() -> None:
    text = "intro\n\n---\njust a sentence here\n---\n\n---\n- a list\n---\nend\n"
    notes = split_notes(text, "x.md")
    assert len(notes) == 1 and notes[0].body == text


def test_relation_lines_between_rules_are_not_a_boundary() -> None:
    text = "body\n\n---\npreceding: [[a]]  \nSee also: [[b]], [[c]]\n\nnext:: [[d]]\n---\nmore\n"
    assert split_notes(text, "x.md")[0].body == text
    glued = "body\nfollowing: [[a]]---\nup: [[b]]\n---\nnew\n"
    assert [n.body for n in split_notes(glued, "x.md")] == ["body\nfollowing: [[a]]\n", "new\n"]


def test_fence_inside_code_block_is_not_a_boundary() -> None:
    text = "```yaml\n---\ntitle: Example\n---\n```\nafter\n"
    assert split_notes(text, "x.md")[0].body == text


def test_malformed_second_note_still_splits(reading: Path) -> None:
    notes, _ = read(reading, "concatenated/broken-second.md")
    assert [n.frontmatter for n in notes] == [
        "title: First\n",
        "title: Second\nnote: %% not yaml\n",
    ]
    assert notes[1].line == 5 and notes[1].frontmatter_line == 6 and notes[1].body_line == 9
    assert notes[0].body == "first body\n"


def test_second_note_with_impossible_date_still_splits() -> None:
    notes = split_notes("one\n---\ntitle: B\ndate: 2024-13-45\n---\ntwo\n", "x.md")
    assert [n.body for n in notes] == ["one\n", "two\n"]


def test_unclosed_first_fence_is_body() -> None:
    notes = split_notes("---\ntitle: x\nno closer\n", "x.md")
    assert len(notes) == 1 and notes[0].frontmatter is None
    assert notes[0].body == "---\ntitle: x\nno closer\n"


@pytest.mark.timeout(30)  # a quadratic scan would hang here; speed itself is benchmarked
def test_long_note_splits() -> None:
    line = "word [[link]] $x^2$ " * 2500 + "\n"  # 50 kB lines
    text = "---\ntitle: big\n---\n" + (line + "---\n") * 10 + "tail---\nkey: v\n---\nend"
    notes = split_notes(text, "big.md")
    assert len(text) > 500_000
    assert [n.frontmatter for n in notes] == ["title: big\n", "key: v\n"]


# --- properties -------------------------------------------------------------

MAPPINGS = st.dictionaries(
    st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
    st.from_regex(r"[a-z0-9 ]{0,12}", fullmatch=True),
    min_size=1,
    max_size=3,
)
BODIES = st.lists(
    st.from_regex(r"[a-zA-Z #*\[\]|]{0,20}", fullmatch=True).filter(lambda s: "---" not in s),
    max_size=4,
).map(lambda ls: "".join(f"{line}\n" for line in ls))


@given(st.lists(st.tuples(MAPPINGS, BODIES, st.booleans()), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_split_recovers_generated_notes(specs: list[tuple[dict[str, str], str, bool]]) -> None:
    text = ""
    for i, (mapping, body, glue) in enumerate(specs):
        yaml_text = "".join(f"{k}: x{v}\n" for k, v in mapping.items())
        if i and glue and text.endswith("\n") and text[-2:-1].isalpha():
            text = text[:-1] + "---\n" + yaml_text + "---\n" + body
        else:
            text += "---\n" + yaml_text + "---\n" + body
    notes = split_notes(text, "g.md")
    expected = ["".join(f"{k}: x{v}\n" for k, v in m.items()) for m, _, _ in specs]
    assert [n.frontmatter for n in notes] == expected
    all_lines = text.split("\n")
    for note in notes:
        assert note.frontmatter is not None
        first_yaml = note.frontmatter.split("\n")[0]
        assert all_lines[note.frontmatter_line - 1] == first_yaml
        if note.body and not note.body.startswith("\n"):
            first_body = note.body.split("\n")[0]
            assert all_lines[note.body_line - 1].startswith(first_body)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_split_loses_only_fences(text: str) -> None:
    text = text.replace("\r", "")
    notes = split_notes(text, "p.md")
    assert notes and notes[0].line == 1
    pos = 0
    for note in notes:
        for piece in (note.frontmatter, note.body):
            if not piece:
                continue
            found = text.find(piece, pos)
            assert found >= 0
            assert set(text[pos:found]) <= set("- \t\n")
            pos = found + len(piece)
    assert set(text[pos:]) <= set("- \t\n")
    lines = text.split("\n")
    for note in notes:
        if note.body.strip("\n") and note.body[0] != "\n":
            assert lines[note.body_line - 1].startswith(note.body.split("\n")[0])
        if note.frontmatter:
            assert lines[note.frontmatter_line - 1] == note.frontmatter.split("\n")[0]
            assert lines[note.line - 1].rstrip().endswith("---")


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_read_notes_never_raises_on_bytes(data: bytes) -> None:
    notes, problems = read_notes(data, "b.md")
    assert notes or any(p.code == "binary-file" for p in problems)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_read_notes_never_raises_on_text(text: str) -> None:
    notes, _ = read_notes(text.encode("utf-8", "surrogatepass"), "t.md")
    assert isinstance(notes, list)


def test_utf16_with_bom_is_decoded() -> None:
    text, problems = decode("title α\r\n".encode("utf-16"), "w.md")
    assert text == "title α\n"
    assert codes(problems) == ["encoding"]


@given(st.text(SAFE_CHARS, max_size=200))
@settings(max_examples=150, deadline=None)
def test_valid_utf8_decodes_unchanged(text: str) -> None:
    text = text.replace("\r", "").replace("\x00", "").lstrip("\ufeff")
    assert decode(text.encode("utf-8"), "u.md") == (text, [])


def test_frontmatter_after_h1_or_template_stays_body() -> None:
    for text in ("# Title\n\n---\ntitle: x\n---\nbody\n", "<% tp.file.title %>\n---\na: 1\n---\n"):
        notes, problems = read_notes(text.encode(), "m.md")
        assert len(notes) == 1 and notes[0].body == text
        assert [(p.code, p.line) for p in problems] == [
            ("misplaced-frontmatter", text.count("\n", 0, text.index("---")) + 1)
        ]
