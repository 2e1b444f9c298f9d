"""A command-line build links from the graph the last one kept, when linking again would
give the same graph; the site is then the same as a clean build's."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import pytest

import kgraph.build
import kgraph.graph.kept
import kgraph.incremental
from kgraph.build import Builder
from kgraph.cache import write_encoded
from kgraph.config import load_config
from kgraph.graph.build import build_graph
from kgraph.graph.kept import KIND, kept_file
from kgraph.vault.load import load_vault
from tests.core.test_incremental import CHAIN, build, clean_build_equals, make_vault


@pytest.fixture(autouse=True)
def _inline_background(monkeypatch: pytest.MonkeyPatch) -> None:
    # The graph is kept by the detached process: run it before the next build.
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")


@pytest.fixture
def links(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often the builder links the notes itself."""
    calls: list[int] = []
    real = kgraph.build.build_graph

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(kgraph.build, "build_graph", counting)
    return calls


def _edit(vault: Path, rel: str, old: str, new: str) -> None:
    path = vault / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_prose_edit_takes_the_kept_graph(tmp_path: Path, links: list[int]) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    assert links == [1] and kept_file(tmp_path / ".kgraph-cache", vault.resolve()).is_file()
    _edit(vault, "B.md", "[[Gamma]].\n", "[[Gamma]].\n\nBeta is a letter.\n")
    report = build(vault, out)
    assert links == [1], "the kept graph was not taken"
    assert report["pages"]["written"] >= 1
    assert "Beta is a letter" in (out / "beta" / "index.html").read_text()
    clean_build_equals(vault, out)


@pytest.mark.parametrize(
    ("rel", "old", "new", "linked_again"),
    [
        ("B.md", "[[Gamma]]", "[[Gamma]] and [[Alpha]]", False),  # a new link
        ("B.md", "Beta leads", "\nBeta leads", False),  # the link moves to another line
        ("B.md", "Beta leads to", "Beta, a letter, leads to", False),  # a link's sentence
        ("B.md", "title: Beta", "title: Beta prime", True),  # a title others show
        ("E.md", "Epsilon ends", "# Ending\n\nEpsilon ends", True),  # a heading
        ("C.md", "[[Omega]]", "[[Phi]]", False),  # a stub no longer wanted
        ("C.md", "[[Omega]]", "[[Omega]] and [[Psi]]", False),  # a new stub
        ("C.md", "[[Omega]]", "[[Omega]] and [[(Phi)]]", False),  # a stub taking Phi's slug
    ],
)
def test_edits_the_graph_depends_on_relink_or_link_again(
    tmp_path: Path, links: list[int], rel: str, old: str, new: str, linked_again: bool
) -> None:
    """Edits of a file's links alone, stubs coming and going included, are linked again
    in the kept graph (`relink`); edits of what other notes' links resolve to link
    everything."""
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    _edit(vault, rel, old, new)
    build(vault, out)
    assert links == ([1, 1] if linked_again else [1])
    clean_build_equals(vault, out)


def test_added_or_removed_files_link_again(tmp_path: Path, links: list[int]) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    (vault / "G.md").write_text("---\ntitle: Gamma two\n---\nPlain.\n")
    build(vault, out)
    (vault / "picture.png").write_bytes(b"\x89PNG\r\n")
    build(vault, out)
    (vault / "G.md").unlink()
    build(vault, out)
    assert links == [1, 1, 1, 1]
    clean_build_equals(vault, out)


def test_a_damaged_kept_graph_is_reported_and_not_used(tmp_path: Path, links: list[int]) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    kept_file(tmp_path / ".kgraph-cache", vault.resolve()).write_bytes(b"garbage")
    _edit(vault, "F.md", "stands alone.", "stands alone. Quite alone.")
    report = build(vault, out)
    assert links == [1, 1]
    assert any(w["code"] == "cache-corrupt" for w in report["warnings"])
    clean_build_equals(vault, out)


def test_a_name_edit_links_again_without_reading_the_kept_graph(
    tmp_path: Path, links: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    read: list[Path] = []
    real = kgraph.graph.kept.read_payload

    def reading(path: Path, kind: str) -> bytes:
        read.append(path)
        return real(path, kind)

    monkeypatch.setattr(kgraph.graph.kept, "read_payload", reading)
    _edit(vault, "B.md", "title: Beta", "title: Beta prime")  # others' links resolve to it
    build(vault, out)
    assert links == [1, 1] and read == []
    _edit(vault, "B.md", "[[Gamma]]", "[[Gamma]] and [[Alpha]]")  # relinked in the kept graph
    build(vault, out)
    assert links == [1, 1] and len(read) == 1
    _edit(vault, "F.md", "stands alone.", "stands alone. Quite alone.")  # prose
    build(vault, out)
    assert links == [1, 1] and len(read) == 2
    clean_build_equals(vault, out)


@pytest.mark.parametrize(
    "forge",
    [
        lambda value: [value],  # not a mapping
        lambda value: {**value, "linked_problems": "many"},
        lambda value: {**value, "figures": None},
        lambda value: {**value, "digests": ["B.md"]},
    ],
)
def test_a_kept_graph_of_the_wrong_shape_is_reported_and_not_used(
    tmp_path: Path, links: list[int], forge: Any
) -> None:
    """A file whose checksum holds but whose content is not what a build writes (another
    tool, another version of kgraph under the same format name) is not trusted."""
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    where = kept_file(tmp_path / ".kgraph-cache", vault.resolve())
    data = load_vault(vault.resolve(), cache_dir=tmp_path / "other-cache", write_cache=False)
    cg = build_graph(data.notes, data.files)
    value = {
        "graph": cg,
        "linked_problems": len(cg.problems),
        "figures": [],
        "order": [(n.path, n.index) for n in data.notes],
        "files": list(data.files),
        "digests": {rel: item.digest for rel, item in data.parsed.items()},
    }
    buffer = io.BytesIO()
    kgraph.graph.kept._Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(forge(value))
    write_encoded(where, KIND, buffer.getvalue())
    _edit(vault, "F.md", "stands alone.", "stands alone. Quite alone.")
    report = build(vault, out)
    assert links == [1, 1]
    assert any(w["code"] == "cache-corrupt" for w in report["warnings"])
    clean_build_equals(vault, out)


def test_figures_are_added_again_to_the_kept_graph(tmp_path: Path, links: list[int]) -> None:
    """The kept graph holds the figures the cells stage added; they are taken out on
    loading and the cells stage adds them again, as after linking anew."""
    files = dict(CHAIN)
    files["M.md"] = (
        "---\ntitle: Model\n---\nSee [[Model#fig-curve]].\n\n"
        '```{python}\n#| label: fig-curve\n#| fig-cap: "A line."\n'
        "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\n```\n"
    )
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    first = build(vault, out)
    assert first["cells"]["executed"] == 1 and first["edges"].get("has_figure") == 1
    _edit(vault, "M.md", "```\n", "```\n\nA closing remark.\n")
    second = build(vault, out)
    assert links == [1]
    assert second["cells"]["cached"] == 1 and second["cells"]["failed"] == 0
    assert (second["concepts"], second["edges"]) == (first["concepts"], first["edges"])
    clean_build_equals(vault, out)


def test_the_kept_graph_equals_linking_again(tmp_path: Path) -> None:
    """Node by node and edge by edge, in order, with the problems and figure refs."""
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    _edit(vault, "A.md", "[[Beta]].\n", "[[Beta]].\n\nAlpha comes first.\n")
    config, _ = load_config(vault, out)
    builder = Builder(config, [])
    result = builder.build()
    assert builder.graph_kept and result.graph is not None
    from kgraph.vault.load import load_vault

    data = load_vault(vault, cache_dir=config.cache_dir, write_cache=False)
    fresh = build_graph(data.notes, data.files)
    kept = result.graph
    assert list(kept.graph.nodes(data=True)) == list(fresh.graph.nodes(data=True))
    assert list(kept.graph.edges(keys=True, data=True)) == list(
        fresh.graph.edges(keys=True, data=True)
    )
    assert kept.problems == fresh.problems and kept.figure_refs == fresh.figure_refs
    assert [(k, c.title, c.kind, c.slug, c.aliases, c.tags) for k, c in kept.concepts.items()] == [
        (k, c.title, c.kind, c.slug, c.aliases, c.tags) for k, c in fresh.concepts.items()
    ]
    # The notes are this build's, bodies and all.
    assert "Alpha comes first." in kept.concepts["alpha"].notes[0].body


def test_a_file_without_notes_edited_keeps_the_graph(tmp_path: Path, links: list[int]) -> None:
    """A `.md` file that holds no note (binary bytes) may change without breaking the
    comparison of graph facts."""
    vault = make_vault(tmp_path)
    (vault / "blob.md").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "site"
    build(vault, out)
    (vault / "blob.md").write_bytes(b"\x00\x01\x03other binary")
    build(vault, out)
    clean_build_equals(vault, out)


def test_a_new_stub_is_relinked_and_digests_only_what_it_touches(
    tmp_path: Path, links: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link to a note not written yet (the usual way a new idea starts) neither links
    the vault again nor digests every concept again."""
    files = {f"N{i:02d}.md": f"Note {i} links [[N{(i + 1) % 40:02d}]].\n" for i in range(40)}
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    build(vault, out)
    digested: list[str] = []
    real = kgraph.incremental.concept_signature

    def counting(cg: Any, key: str, *args: Any) -> Any:
        digested.append(key)
        return real(cg, key, *args)

    monkeypatch.setattr(kgraph.incremental, "concept_signature", counting)
    _edit(vault, "N05.md", "links [[N06]]", "links [[N06]] and [[A new idea]]")
    report = build(vault, out)
    assert links == [1]  # relinked in the kept graph
    assert set(digested) == {"n05", "n06", "a new idea"}  # not the other 38
    # Its page, the two ends', a few neighbours' and the index pages: not all 48.
    assert report["stubs"] == 1 and report["pages"]["rendered"] < 20
    assert "a-new-idea/index.html" in {
        p.relative_to(out).as_posix() for p in out.rglob("index.html")
    }
    clean_build_equals(vault, out)


def test_prose_above_a_heading_keeps_the_graph(tmp_path: Path, links: list[int]) -> None:
    """A heading moved down by new prose is the same anchor: nothing links again."""
    files = {
        "A.md": "---\ntitle: Alpha\n---\n# Part one\n\nAlpha text.\n",
        "B.md": "Beta points at [[Alpha#Part one]].\n",
    }
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    build(vault, out)
    _edit(vault, "A.md", "# Part one", "A new first paragraph.\n\n# Part one")
    report = build(vault, out)
    assert links == [1]
    assert not any(w["code"] == "missing-anchor" for w in report["warnings"])
    clean_build_equals(vault, out)
