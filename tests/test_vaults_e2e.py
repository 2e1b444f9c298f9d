"""End-to-end reading and linking: each small vault under tests/vaults/e2e/ shows one behaviour.

Every expected value below is worked out from the vault files themselves (line numbers are
1-based lines of the source file), not from kgraph's output.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import kgraph
from kgraph.api import KnowledgeGraph
from kgraph.cli import main
from kgraph.problems import CODES
from kgraph.vault.note import Link

VAULTS = Path(__file__).parent / "vaults"
E2E = VAULTS / "e2e"
E2E_NAMES = sorted(p.name for p in E2E.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep every cache write out of the repository.
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(tmp_path / "env-cache"))


def load(name: str | Path, tmp_path: Path) -> KnowledgeGraph:
    root = name if isinstance(name, Path) else E2E / name
    return kgraph.load(root, cache_dir=tmp_path / "cache")


def found(kg: KnowledgeGraph) -> set[tuple[str, str, int]]:
    """Every problem as (code, file, line)."""
    return {(p.code, p.file, p.line) for p in kg.problems}


def edges(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(kg.graph.edges(keys=True))


def kinds(kg: KnowledgeGraph) -> dict[str, str]:
    return {key: attrs["kind"] for key, attrs in kg.graph.nodes(data=True)}


def utc(iso: str | None) -> datetime:
    """Parse an ISO 8601 date and insist that it is in UTC."""
    assert iso is not None
    parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    offset = parsed.utcoffset()
    assert offset is not None and offset.total_seconds() == 0
    return parsed


def note_links(kg: KnowledgeGraph, key: str, index: int) -> set[tuple[str, str, int]]:
    """(target, relation, line) of the links of one note of a concept, by position in its file."""
    notes = [n for n in kg.concept_graph.concepts[key].notes if n.index == index]
    assert len(notes) == 1
    return {(link.target, link.relation, link.line) for link in notes[0].links}


# 1. Two notes in one file, the second glued to the first one's last line.


def test_concatenated_notes_merge_newest_first(tmp_path: Path) -> None:
    kg = load("concatenated", tmp_path)
    shown = kg.show("Spike timing")
    assert shown["key"] == "spike timing"
    assert [(n["path"], n["line"]) for n in shown["notes"]] == [
        ("Spike timing.md", 7),
        ("Spike timing.md", 1),
    ]
    dates = [utc(n["date"]) for n in shown["notes"]]
    assert dates == [
        datetime(2024, 3, 9, 16, 0, 0, 500000, tzinfo=UTC),
        datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC),
    ]
    assert found(kg) == {("duplicate-concept", "Spike timing.md", 7)}


def test_concatenated_links_keep_their_source_lines(tmp_path: Path) -> None:
    kg = load("concatenated", tmp_path)
    assert note_links(kg, "spike timing", 0) == {
        ("Alpha", "links_to", 5),
        ("Gamma", "following", 7),
    }
    assert note_links(kg, "spike timing", 1) == {
        ("Delta", "links_to", 11),
        ("Epsilon", "links_to", 14),
    }
    assert edges(kg) == {
        ("spike timing", "alpha", "links_to"),
        ("spike timing", "gamma", "following"),
        ("spike timing", "delta", "links_to"),
        ("spike timing", "epsilon", "links_to"),
    }


def test_rule_followed_by_prose_is_not_a_boundary(tmp_path: Path) -> None:
    kg = load("concatenated", tmp_path)
    notes = kg.concept_graph.concepts["spike timing"].notes
    assert len(notes) == 2
    second = next(n for n in notes if n.index == 1)
    assert "owner" not in second.frontmatter and "status" not in second.frontmatter
    assert "owner: nobody in particular" in second.body
    assert set(kinds(kg).values()) == {"note"}


# 2. Dates in every written form become ISO 8601 UTC.


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Float", datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)),
        ("Int", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("Iso", datetime(2024, 2, 29, 10, 30, tzinfo=UTC)),
        ("Yaml date", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_dates_normalised_to_utc(name: str, expected: datetime, tmp_path: Path) -> None:
    kg = load("unix-dates", tmp_path)
    (note,) = kg.show(name)["notes"]
    assert utc(note["date"]) == expected


def test_date_placeholder_is_a_bad_date(tmp_path: Path) -> None:
    kg = load("unix-dates", tmp_path)
    (note,) = kg.show("Placeholder")["notes"]
    assert note["date"] is None
    assert found(kg) == {("bad-date", "Placeholder.md", 3)}


# 3. Mojibake is repaired and reported.


def test_mojibake_repaired_in_title_and_body(tmp_path: Path) -> None:
    kg = load("mojibake", tmp_path)
    shown = kg.show("α-synuclein")
    assert shown["title"] == "α-synuclein"
    (note,) = kg.concept_graph.concepts[shown["key"]].notes
    assert "The α rhythm" in note.body
    assert "It\u2019s linked" in note.body
    assert "The neuron\u2019s spike" in note.body
    assert "Î" not in note.body and "â" not in note.body
    assert found(kg) == {
        ("mojibake", "Greek.md", 2),
        ("mojibake", "Greek.md", 4),
        ("mojibake", "Greek.md", 6),
        ("mojibake", "Greek.md", 8),
    }
    assert edges(kg) == {(shown["key"], "theta", "links_to")}


# 4. A cp1252 file is decoded with a warning.


def test_cp1252_decoded_and_linked(tmp_path: Path) -> None:
    kg = load("cp1252", tmp_path)
    shown = kg.show("café")
    assert shown["title"] == "Café"
    (note,) = kg.concept_graph.concepts[shown["key"]].notes
    assert "café \u2013 naïve" in note.body
    assert edges(kg) == {("café", "bistro", "links_to")}
    assert {(c, f) for c, f, _ in found(kg)} == {("encoding", "Cafe.md")}


# 5. and 6. Math, code and comments hide links and tags.


def test_links_in_math_are_not_links(tmp_path: Path) -> None:
    kg = load("math", tmp_path)
    assert edges(kg) == {("math", "real", "links_to")}
    assert kinds(kg) == {"math": "note", "real": "note"}
    assert note_links(kg, "math", 0) == {("Real", "links_to", 16)}
    assert found(kg) == set()


def test_links_and_tags_in_code_and_comments_are_ignored(tmp_path: Path) -> None:
    kg = load("code-and-comments", tmp_path)
    assert edges(kg) == {("code", "real", "links_to")}
    assert kinds(kg) == {"code": "note", "real": "note"}
    assert kg.show("Code")["tags"] == ["shown"]
    assert [row["key"] for row in kg.tag("shown")] == ["code"]
    for hidden in ("notatag", "notatag2", "hidden", "hidden2"):
        assert kg.tag(hidden) == []
    assert found(kg) == set()


# 7. and 8. Identity: same title, several casings.


def test_duplicate_titles_are_one_concept(tmp_path: Path) -> None:
    kg = load("duplicate-titles", tmp_path)
    assert kinds(kg) == {"shared": "note"}
    assert kg.graph.nodes["shared"]["paths"] == ["one/first.md", "two/second.md"]
    assert found(kg) == {("duplicate-concept", "two/second.md", 1)}


def test_links_in_any_case_land_on_one_node(tmp_path: Path) -> None:
    kg = load("case-links", tmp_path)
    assert kinds(kg) == {"alpha": "note", "source": "note"}
    assert edges(kg) == {("source", "alpha", "links_to")}
    assert kg.graph.edges["source", "alpha", "links_to"]["count"] == 3
    assert kg.unresolved() == []
    assert found(kg) == set()


# 9. Aliases and loose names resolve, with an info.


def test_alias_and_loose_links(tmp_path: Path) -> None:
    kg = load("aliases", tmp_path)
    assert edges(kg) == {("source", "real name", "links_to")}
    assert kg.graph.edges["source", "real name", "links_to"]["count"] == 3
    assert kg.show("Alias")["key"] == "real name"
    assert kg.unresolved() == []
    assert found(kg) == {("alias-link", "Source.md", 3), ("loose-link", "Source.md", 5)}
    assert {p.severity for p in kg.problems} == {"info"}


# 10. Untitled files sharing a stem.


def test_same_stem_in_two_folders(tmp_path: Path) -> None:
    kg = load("folders-same-stem", tmp_path)
    assert kinds(kg) == {"a/index": "note", "b/index": "note", "note": "note", "top": "note"}
    assert edges(kg) == {
        ("a/index", "b/index", "links_to"),
        ("b/index", "a/index", "links_to"),
        ("top", "note", "links_to"),
    }
    # the bare [[index]] on line 3 of a/index.md picks its own folder's file, i.e. itself
    assert note_links(kg, "a/index", 0) == {("b/index", "links_to", 1), ("index", "links_to", 3)}
    resolution = kg.concept_graph.resolver.resolve(Link(target="index", line=3), "a/index.md")
    assert resolution.file == "a/index.md"
    assert kg.graph.nodes["note"]["paths"] == ["x/deep/note.md"]
    assert found(kg) == {("ambiguous-link", "a/index.md", 3)}


# 11. Broken YAML keeps the note.


def test_malformed_yaml_keeps_note_and_body_links(tmp_path: Path) -> None:
    kg = load("malformed-yaml", tmp_path)
    assert found(kg) == {
        ("bad-frontmatter", "Tab note.md", 4),
        ("bad-frontmatter", "Template note.md", 2),
        ("bad-frontmatter", "Comment note.md", 3),
    }
    for stem in ("Tab note", "Template note", "Comment note"):
        key = stem.casefold()
        assert kg.graph.nodes[key]["title"] == stem
        assert (key, "target", "links_to") in edges(kg)
    assert kg.concept_graph.lookup("Tabbed") is None


# 12. Empty, binary and torn files.


def test_empty_note_and_nul_torn_file(tmp_path: Path) -> None:
    kg = load("empty-and-binary", tmp_path)
    assert kinds(kg) == {"empty": "note", "torn": "note"}
    assert kg.show("Empty")["notes"][0]["path"] == "Empty.md"
    (torn,) = kg.concept_graph.concepts["torn"].notes
    assert "Before" in torn.body and "torn" in torn.body and "\x00" not in torn.body
    assert edges(kg) == {("torn", "empty", "links_to")}
    assert {(c, f) for c, f, _ in found(kg)} == {("encoding", "Torn.md")}


def test_zip_saved_as_markdown_is_binary(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(E2E / "empty-and-binary", vault)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.txt", "[[Empty]] " * 50)
    (vault / "Archive.md").write_bytes(buffer.getvalue())
    kg = load(vault, tmp_path)
    assert "archive" not in kg.graph
    assert kinds(kg) == {"empty": "note", "torn": "note"}
    assert {(c, f) for c, f, _ in found(kg)} == {
        ("encoding", "Torn.md"),
        ("binary-file", "Archive.md"),
    }


# 13. Paths leaving the vault.


def test_traversal_links_are_unsafe(tmp_path: Path) -> None:
    kg = load("traversal", tmp_path)
    assert kinds(kg) == {"escape": "note"}
    assert edges(kg) == set()
    assert kg.unresolved() == []
    assert found(kg) == {("unsafe-path", "Escape.md", 1), ("unsafe-path", "Escape.md", 3)}


def test_traversal_never_reads_outside(tmp_path: Path) -> None:
    # a real target beside the vault must stay invisible
    vault = tmp_path / "a" / "b" / "vault"
    shutil.copytree(E2E / "traversal", vault)
    (tmp_path / "a" / "secret.md").write_text("---\ntitle: Secret\n---\n[[Escape]]\n")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd.md").write_text("root\n")
    kg = load(vault, tmp_path)
    assert kinds(kg) == {"escape": "note"}
    assert kg.concept_graph.lookup("Secret") is None
    assert {c for c, _, _ in found(kg)} == {"unsafe-path"}


# 14. Typed relations.


def test_relations_become_typed_edges(tmp_path: Path) -> None:
    kg = load("relations", tmp_path)
    assert edges(kg) == {
        ("hub", "y", "related"),
        ("hub", "z", "parent"),
        ("hub", "plain", "links_to"),
        ("hub", "embedded", "embeds"),
        ("hub", "a", "see_also"),
        ("hub", "b", "see_also"),
        ("hub", "c", "see_also"),
        ("hub", "prev", "preceding"),
        ("hub", "next", "following"),
        ("hub", "x", "key"),
        ("hub", "mentor", "mentor"),
    }
    assert kg.relations() == {
        "embeds": 1,
        "following": 1,
        "key": 1,
        "links_to": 1,
        "mentor": 1,
        "parent": 1,
        "preceding": 1,
        "related": 1,
        "see_also": 3,
    }
    lines = {t: d["line"] for _, t, d in kg.graph.out_edges("hub", data=True)}
    assert lines == {
        "y": 2,
        "z": 3,
        "plain": 5,
        "embedded": 5,
        "a": 8,
        "b": 8,
        "prev": 9,
        "next": 10,
        "c": 12,
        "x": 14,
        "mentor": 16,
    }
    assert [r["key"] for r in kg.neighbors("Hub", relation="see_also", direction="out")] == [
        "a",
        "b",
        "c",
    ]
    assert found(kg) == set()


def test_relation_queries(tmp_path: Path) -> None:
    kg = load("relations", tmp_path)
    assert kg.path("Prev", "Next") == {
        "path": ["prev", "hub", "next"],
        "relations": ["~preceding", "following"],
        "directed": False,
    }
    assert kg.path("Hub", "Next")["relations"] == ["following"]
    top = kg.hubs(top=2)
    assert top[0] == {"key": "hub", "title": "Hub", "score": 11}
    assert top[1]["score"] == 1
    assert kg.orphans() == []
    assert kg.backlinks("Embedded") == [
        {"key": "hub", "title": "Hub", "relation": "embeds", "direction": "in"}
    ]


# 15. Tags.


@pytest.mark.parametrize(
    ("tag", "keys"),
    [
        ("alpha", ["listed"]),
        ("project", ["listed"]),
        ("project/sub", ["listed"]),
        ("beta", ["comma"]),
        ("gamma", ["comma"]),
        ("delta", ["hashed"]),
        ("#delta", ["hashed"]),
        ("inline", ["inline"]),
        ("1984", []),
        ("frag", []),
    ],
)
def test_tag_query(tag: str, keys: list[str], tmp_path: Path) -> None:
    kg = load("tags", tmp_path)
    assert [row["key"] for row in kg.tag(tag)] == keys


def test_tag_in_heading_is_not_a_tag(tmp_path: Path) -> None:
    kg = load("tags", tmp_path)
    assert kg.tag("notheading") == []


# BOM, CRLF and a lone CR are normalised before the frontmatter is looked for.


def test_bom_and_crlf_keep_frontmatter_and_lines(tmp_path: Path) -> None:
    kg = load("bom-crlf", tmp_path)
    assert kinds(kg) == {"marked": "note", "other": "note"}
    assert kg.show("Marked")["notes"][0]["title"] == "Marked"
    assert note_links(kg, "marked", 0) == {("Other", "links_to", 4), ("Other", "links_to", 6)}
    assert found(kg) == set()


# 16. Ignored folders and files.


def test_ignored_paths_make_no_concepts(tmp_path: Path) -> None:
    kg = load("ignore", tmp_path)
    assert kinds(kg) == {"kept": "note"}
    assert kg.orphans() == [{"key": "kept", "title": "Kept"}]
    assert kg.graph.nodes["kept"]["paths"] == ["Kept.md"]
    conflict = "Kept.sync-conflict-20240101-120000-ABCDEFG.md"
    assert {(c, f) for c, f, _ in found(kg)} == {("conflict-copy", conflict)}


# 17. Unresolved links.


def test_unresolved_target_is_one_stub(tmp_path: Path) -> None:
    kg = load("unresolved", tmp_path)
    assert kinds(kg) == {"one": "note", "two": "note", "missing": "stub"}
    rows = kg.unresolved()
    assert [(r["key"], r["wanted_by"]) for r in rows] == [("missing", ["one", "two"])]
    assert kg.graph.edges["one", "missing", "links_to"]["count"] == 2
    assert found(kg) == {
        ("unresolved-link", "One.md", 1),
        ("unresolved-link", "One.md", 3),
        ("unresolved-link", "Two.md", 3),
    }
    assert [r["key"] for r in kg.backlinks("missing")] == ["one", "two"]


# 18. Attachments.


def test_attachments_make_no_concepts(tmp_path: Path) -> None:
    kg = load("attachments", tmp_path)
    assert "figure.png" not in kg.graph and "paper.pdf" not in kg.graph
    assert all(t != "figure" and t != "paper" for _, t, _ in edges(kg))
    assert not any(p.line in {1, 3} for p in kg.problems)


def test_missing_attachment_is_reported_not_wanted(tmp_path: Path) -> None:
    # A missing image is a broken embed, not a concept someone should write.
    kg = load("attachments", tmp_path)
    assert edges(kg) == set()
    assert "missing.png" not in kinds(kg)
    assert kg.unresolved() == []
    assert found(kg) == {("missing-embed", "Paper note.md", 5)}


# Report quality: Obsidian habits that deserve a warning, not silence.


def test_report_quality_problems(tmp_path: Path) -> None:
    kg = load("report-quality", tmp_path)
    assert found(kg) == {
        ("duplicate-key", "P.md", 6),
        ("external-wikilink", "P.md", 8),
        ("missing-anchor", "P.md", 8),
        ("unclosed-fence", "P.md", 15),
        ("misplaced-frontmatter", "Q.md", 4),
        ("alias-link", "Q.md", 7),
    }
    shown = kg.show("P")
    assert shown["tags"] == ["solo"] and shown["aliases"] == ["Pee"]
    assert kg.concept_graph.concepts["p"].notes[0].frontmatter["k"] == 2
    # both table rows keep their wikilink whole, escaped pipe or not
    assert note_links(kg, "p", 0) >= {("Q", "links_to", 12), ("Q", "links_to", 13)}
    assert kg.graph.edges["p", "q", "links_to"]["count"] == 3
    assert kinds(kg) == {"p": "note", "q": "note"}
    assert kg.show("Q")["title"] == "Q"
    assert kg.concept_graph.lookup("Late") is None


# Robustness over every vault.


@pytest.mark.parametrize("name", E2E_NAMES)
def test_load_never_raises(name: str, tmp_path: Path) -> None:
    kg = load(name, tmp_path)
    assert len(kg.graph) > 0
    for p in kg.problems:
        assert p.code in CODES
        assert p.line >= 0
        assert not p.file.startswith(("/", "../"))
    for key in kg.graph:
        assert kg.show(key)["key"] == key


def _vault_folders() -> list[Path]:
    return sorted(
        {p.parent for p in VAULTS.rglob("*.md") if not any(s.startswith(".") for s in p.parts)}
    )


@pytest.mark.parametrize("vault", _vault_folders(), ids=lambda p: p.relative_to(VAULTS).as_posix())
def test_check_json_on_every_vault(vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(vault), "--format", "json"])
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert isinstance(rows, list)
    for row in rows:
        assert {"file", "line", "code", "severity", "message"} <= set(row)
        assert row["severity"] in {"error", "warning", "info"}
        assert isinstance(row["line"], int)
    assert code == (1 if any(r["severity"] == "error" for r in rows) else 0)
