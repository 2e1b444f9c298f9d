"""The store of compiled bodies: a stored template is the one compiling again gives, any
other body misses, and a damaged store only means compiling again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.bodystore import fetch, save
from kgraph.vault.fastrender import Template, compile_body
from kgraph.vault.note import Note


def note(path: str, body: str, body_line: int = 4) -> Note:
    return Note(
        path=path, index=0, line=1, title=path, titled=False, body=body, body_line=body_line
    )


def compiled_of(*notes: Note) -> dict[tuple[str, int], Template]:
    out = {}
    for n in notes:
        done = compile_body(n.body, n.body_line)
        assert done is not None, "a body the fast renderer handles"
        out[(n.path, n.body_line)] = Template.of(done)
    return out


BODY = "# Title\n\nSee [[Beta]] and $x^2$.\n\n```python\nprint(1)\n```\n"


def test_stored_templates_come_back_for_the_same_bodies(tmp_path: Path) -> None:
    store = tmp_path / "bodies.sqlite"
    a, b = note("a.md", BODY), note("b.md", "Plain [[Gamma]] text.\n")
    save(store, compiled_of(a, b), [a, b])
    twin = note("dir/twin.md", BODY)  # the same body elsewhere compiles the same
    found = fetch(store, [a, b, twin])
    want = compiled_of(a, b, twin)
    assert found == want


def test_a_store_named_by_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a = note("a.md", BODY)
    save(Path("cache") / "bodies.sqlite", compiled_of(a), [a])
    assert fetch(Path("cache") / "bodies.sqlite", [a]) == compiled_of(a)


def test_another_body_or_first_line_misses(tmp_path: Path) -> None:
    store = tmp_path / "bodies.sqlite"
    a = note("a.md", BODY)
    save(store, compiled_of(a), [a])
    edited = note("a.md", BODY + "More.\n")
    moved = Note(**{**a.__dict__, "body_line": 9})
    assert fetch(store, [edited, moved]) == {}


def test_a_damaged_store_is_started_again(tmp_path: Path) -> None:
    store = tmp_path / "bodies.sqlite"
    store.write_bytes(b"not a database at all" * 100)
    a = note("a.md", BODY)
    assert fetch(store, [a]) == {}
    save(store, compiled_of(a), [a])
    assert fetch(store, [a]) == compiled_of(a)


def test_a_damaged_row_is_compiled_again(tmp_path: Path) -> None:
    store = tmp_path / "bodies.sqlite"
    a, b = note("a.md", BODY), note("b.md", "Plain [[Gamma]] text.\n")
    save(store, compiled_of(a, b), [a, b])
    with sqlite3.connect(store) as db:
        db.execute("UPDATE bodies SET template = ? WHERE rowid = 1", (b"\x80junk",))
    db.close()
    found = fetch(store, [a, b])
    assert len(found) == 1 and found.items() <= compiled_of(a, b).items()


def test_stale_bodies_are_dropped_once_they_outnumber_the_vault(tmp_path: Path) -> None:
    store = tmp_path / "bodies.sqlite"
    old = [note(f"n{i}.md", f"Version {i} of [[X]].\n") for i in range(1200)]
    save(store, compiled_of(*old), old)
    now = [note("n0.md", "The only note left, [[X]].\n")]
    save(store, compiled_of(*now), now)
    with sqlite3.connect(store) as db:
        (count,) = db.execute("SELECT count(*) FROM bodies").fetchone()
    db.close()
    assert count == 1
    assert fetch(store, now) == compiled_of(*now)


LINES = st.lists(
    st.sampled_from(
        ["", "Some text.", "A [[Link]] here.", "# Head", "- item [[X|shown]]", "$$", "a^2", "$x$"]
    ),
    max_size=12,
)


@given(LINES, st.integers(1, 50))
@settings(max_examples=150, deadline=None)
def test_fetched_equals_compiled_again(lines: list[str], body_line: int) -> None:
    import tempfile

    body = "\n".join(lines) + "\n"
    done = compile_body(body, body_line)
    n = Note(path="p.md", index=0, line=1, title="P", titled=False, body=body, body_line=body_line)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bodies.sqlite"
        save(store, {("p.md", body_line): Template.of(done)} if done else {}, [n])
        found = fetch(store, [n])
    if done is None:
        assert found == {}
    else:
        assert found == {("p.md", body_line): Template.of(compile_body(body, body_line))}


def test_another_compiler_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kgraph.bodystore as bodystore

    store = tmp_path / "bodies.sqlite"
    a = note("a.md", BODY)
    save(store, compiled_of(a), [a])
    assert fetch(store, [a]) == compiled_of(a)
    # Another kgraph, Pygments or markdown-it, or an edited compiler module.
    monkeypatch.setattr(bodystore, "compiler_id", lambda: b"another compiler")
    assert fetch(store, [a]) == {}


def test_the_compiler_id_follows_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import kgraph.vault
    from kgraph.bodystore import compiler_id

    copy = tmp_path / "vault"
    shutil.copytree(Path(kgraph.vault.__file__).parent, copy)
    monkeypatch.setattr(kgraph.vault, "__file__", str(copy / "__init__.py"))
    fresh = compiler_id.__wrapped__  # uncached
    assert fresh() == compiler_id(), "the same sources, the same id"
    with (copy / "syntax" / "math.py").open("a") as fh:
        fh.write("\n# edited\n")
    assert fresh() != compiler_id()
