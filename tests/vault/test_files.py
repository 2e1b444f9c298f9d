"""Vault discovery, ignore globs, symlinks and safe paths."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.snapshot import fingerprint
from kgraph.vault.files import discover, glob_regex, is_ignored, safe_join


def test_discovery_skips_hidden_backups_and_conflicts(reading: Path) -> None:
    found = discover(reading / "ignore")
    assert found.notes == (
        "Upper.MD",
        "drafts/keep.md",
        "note.md",
        "sub/deep.markdown",
        "templates/daily.md",
    )
    assert found.attachments == ("drafts/x.tmp", "model.py", "sub/figure.png")
    assert [(p.file, p.code) for p in found.problems] == [
        ("note.sync-conflict-20240101-ABC.md", "conflict-copy")
    ]


@pytest.mark.parametrize("pattern", ["templates/", "templates/**", "templates", "**/daily.md"])
def test_ignore_globs_exclude_a_folder(reading: Path, pattern: str) -> None:
    found = discover(reading / "ignore", [pattern, "*.tmp"])
    assert "templates/daily.md" not in found.notes
    assert "drafts/x.tmp" not in found.attachments
    assert "note.md" in found.notes


@pytest.mark.parametrize(
    ("rel", "pattern", "hit"),
    [
        ("a/b/c.md", "a/**", True),
        ("a/b/c.md", "**/c.md", True),
        ("c.md", "**/c.md", True),
        ("a/b/c.md", "a/*.md", False),
        ("a/c.md", "a/*.md", True),
        ("x/a.tmp", "*.tmp", True),
        ("ab.md", "a?.md", True),
        ("a1.md", "a[0-9].md", True),
        ("ax.md", "a[!x].md", False),
        ("docs", "docs/", True),
        ("docs/a.md", "./docs/**", True),
    ],
)
def test_glob_matching(rel: str, pattern: str, hit: bool) -> None:
    assert is_ignored(rel, [pattern]) is hit


def test_exclude_dirs(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "page.md").write_text("x")
    (tmp_path / "n.md").write_text("x")
    assert discover(tmp_path, exclude_dirs=[tmp_path / "site"]).notes == ("n.md",)


@pytest.fixture
def linked_vault(reading: Path, tmp_path: Path) -> Path:
    """A copy of the symlink vault with links out of it, inside it and in a loop."""
    vault = tmp_path / "vault"
    shutil.copytree(reading / "symlink-escape", vault)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("secret")
    (vault / "escape-dir").symlink_to(outside, target_is_directory=True)
    (vault / "escape.md").symlink_to(outside / "secret.md")
    (vault / "alias.md").symlink_to(vault / "inside.md")
    (vault / "folder" / "loop").symlink_to(vault, target_is_directory=True)
    return vault


def test_symlinks_leaving_the_vault_are_not_followed(linked_vault: Path) -> None:
    found = discover(linked_vault)
    assert "escape.md" not in found.notes
    assert not any("secret" in n for n in found.notes)
    assert {(p.file, p.code) for p in found.problems} == {
        ("escape-dir", "unsafe-path"),
        ("escape.md", "unsafe-path"),
    }
    assert "alias.md" in found.notes and "inside.md" in found.notes
    assert "folder/n.md" in found.notes
    assert len(found.notes) == len(set(found.notes))  # the loop adds nothing twice


def test_safe_join(linked_vault: Path) -> None:
    assert safe_join(linked_vault, "folder/n.md") == (linked_vault / "folder/n.md").resolve()
    assert safe_join(linked_vault, "../outside/secret.md") is None
    assert safe_join(linked_vault, "/etc/passwd") is None
    assert safe_join(linked_vault, "escape-dir/secret.md") is None
    assert safe_join(linked_vault, "a\x00b") is None
    assert safe_join(linked_vault, "missing/../new.md") == linked_vault.resolve() / "new.md"


def test_nfc_names_only_when_openable(tmp_path: Path) -> None:
    decomposed = "cafe\u0301.md"
    (tmp_path / decomposed).write_text("x")
    found = discover(tmp_path)
    # On a file system that keeps the decomposed name, NFC would not open the file.
    expected = "café.md" if os.path.exists(tmp_path / "café.md") else decomposed
    assert found.notes == (expected,)


def test_ten_thousand_files_are_found(tmp_path: Path) -> None:
    for d in range(100):
        folder = tmp_path / f"d{d}"
        folder.mkdir()
        for f in range(100):
            (folder / f"n{f}.md").touch()
    found = discover(tmp_path)
    assert len(found.notes) == 10_000


_GLOB_PART = st.sampled_from(["a", "b", "*", "?", "**", "/", ".md", "[ab]", "[!a]", "-"])
_PATH_PART = st.sampled_from(["a", "b", "ab", "/", ".md", "x", "-"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(_GLOB_PART, min_size=1, max_size=6).map("".join), max_size=5),
    st.lists(_PATH_PART, min_size=1, max_size=8).map("".join),
)
def test_several_globs_match_as_any_one_does(patterns: list[str], rel: str) -> None:
    """The globs are joined in one pattern for speed: it matches where one of them does."""
    one_by_one = any(glob_regex(p).fullmatch(rel) for p in patterns if p.strip())
    assert is_ignored(rel, patterns) is one_by_one


def test_names_that_are_not_utf8_are_skipped_with_a_warning(tmp_path: Path) -> None:
    base = os.fsencode(tmp_path)
    (tmp_path / "good.md").write_text("ok")
    with open(base + b"/caf\xe9.md", "wb") as f:  # Latin-1 bytes in the name
        f.write(b"# old name\n")
    os.mkdir(base + b"/f\xf6lder")
    with open(base + b"/f\xf6lder/inside.md", "wb") as f:
        f.write(b"# inside\n")
    found = discover(tmp_path)
    assert found.notes == ("good.md",)
    assert [(p.file, p.code) for p in found.problems] == [
        ("caf\ufffd.md", "bad-file-name"),
        ("f\ufffdlder", "bad-file-name"),
    ]
    json.dumps([p.file for p in found.problems], ensure_ascii=False).encode("utf-8")
    assert fingerprint(tmp_path, (), "s") != fingerprint(tmp_path, (), "t")
