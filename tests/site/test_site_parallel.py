"""Rendering in forked workers gives exactly what one process gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from synthetic import synthetic_notes

from kgraph.config import load_config
from kgraph.graph.build import build_graph
from kgraph.site.output import PackedFiles, StagedFiles
from kgraph.site.parallel import PARALLEL_MIN_PAGES, guided_chunks, render_parallel
from kgraph.site.render import INDEX_PARTS, render_site, site_renderer


def test_packed_files_read_back_what_was_packed() -> None:
    files = {"a/index.html": b"<p>alpha</p>" * 100, "b.js": b"", "c": bytes(range(256))}
    packed = PackedFiles(PackedFiles.pack(files))
    assert dict(packed.items()) == files and len(packed) == 3 and "c" in packed
    assert sum(map(len, packed.packed.values())) < sum(map(len, files.values()))


@given(st.integers(0, 30_000), st.integers(1, 8), st.integers(1, 100))
def test_guided_chunks_cover_the_keys_in_order_and_shrink(n: int, jobs: int, least: int) -> None:
    keys = [f"k{i:05d}" for i in range(n)]
    chunks = guided_chunks(keys, jobs, least)
    assert [k for chunk in chunks for k in chunk] == keys
    sizes = [len(chunk) for chunk in chunks]
    assert all(size > 0 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)  # the last chunks are the small ones
    assert all(size >= least for size in sizes[:-1])
    if n:
        # No chunk holds more than its share of what was left when it was cut ...
        left = n
        for size in sizes:
            assert size <= max(least, -(-left // (jobs * 4)))
            left -= size
        # ... so the last chunk is at most the least size (or its share, when bigger).
        assert sizes[-1] <= least


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_parallel_render_equals_one_process(tmp_path: Path) -> None:
    notes, files = synthetic_notes(PARALLEL_MIN_PAGES + 50)
    cg = build_graph(notes, files)
    config, _ = load_config(tmp_path, tmp_path / "site", execute=False)
    one = render_site(cg, config, cells={})
    handed: list[str] = []
    calls: list[int] = []
    two = render_parallel(
        cg,
        config,
        cells={},
        jobs=2,
        renderer=site_renderer(cg, config, cells={}),
        on_files=lambda batch: handed.extend(batch),
        meanwhile=lambda: calls.append(len(handed)),
    )
    assert isinstance(two.files, PackedFiles)  # it really took the worker path
    # Every file is handed over exactly once, in batches, after `meanwhile` ran once.
    assert sorted(handed) == sorted(one.files) and calls == [0]
    assert list(two.files) == sorted(one.files)
    assert [rel for rel in one.files if one.files[rel] != two.files[rel]] == []
    assert two.dependencies == one.dependencies
    assert two.problems == one.problems and two.page_problems == one.page_problems


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_index_pages_in_a_worker_beside_a_few_pages(tmp_path: Path) -> None:
    notes, files = synthetic_notes(PARALLEL_MIN_PAGES + 50)
    cg = build_graph(notes, files)
    config, _ = load_config(tmp_path, tmp_path / "site", execute=False)
    few = frozenset(sorted(cg.concepts)[:5])
    one = render_site(cg, config, cells={}, only=few)
    two = render_parallel(
        cg, config, cells={}, only=few, jobs=2, renderer=site_renderer(cg, config, cells={})
    )
    assert isinstance(two.files, PackedFiles)
    assert "graph/index.html" in two.files and "index.html" in two.files
    assert list(two.files) == sorted(one.files)
    assert [rel for rel in one.files if one.files[rel] != two.files[rel]] == []
    assert two.dependencies == one.dependencies and two.copies == one.copies
    assert two.problems == one.problems
    assert two.index_files == one.index_files and set(one.index_files) == INDEX_PARTS
    # Some parts only: each in its own worker, the same files as in one process.
    for parts in (
        frozenset({"graph", "linked"}),
        frozenset({"listed", "tagged"}),
        frozenset({"tagged"}),
        frozenset({"graph"}),
    ):
        one = render_site(cg, config, cells={}, only=few, index_parts=parts)
        two = render_parallel(
            cg,
            config,
            cells={},
            only=few,
            jobs=2,
            renderer=site_renderer(cg, config, cells={}),
            index_parts=parts,
        )
        assert set(two.index_files) == parts and two.index_files == one.index_files
        assert dict(two.files.items()) == dict(one.files.items())
        made = {rel for files in one.index_files.values() for rel in files}
        assert made == set(one.files) - {page for page in one.files if page in one.page_problems}


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_a_few_pages_are_announced_before_the_index_workers_finish(tmp_path: Path) -> None:
    """The search index may start once a few pages are rendered: the index pages the
    workers render meanwhile hold no article to search, and come to `on_files` after."""
    notes, files = synthetic_notes(PARALLEL_MIN_PAGES + 50)
    cg = build_graph(notes, files)
    config, _ = load_config(tmp_path, tmp_path / "site", execute=False)
    few = frozenset(sorted(cg.concepts)[:5])
    events: list[tuple[str, frozenset[str]]] = []
    two = render_parallel(
        cg,
        config,
        cells={},
        only=few,
        jobs=2,
        renderer=site_renderer(cg, config, cells={}),
        index_parts=frozenset({"linked", "listed"}),
        on_files=lambda batch: events.append(("files", frozenset(batch))),
        on_pages_done=lambda: events.append(("done", frozenset())),
    )
    one = render_site(cg, config, cells={}, only=few, index_parts=frozenset({"linked", "listed"}))
    assert dict(two.files.items()) == dict(one.files.items())
    done = events.index(("done", frozenset()))
    before = set().union(*(names for _, names in events[:done]))
    after = set().union(*(names for _, names in events[done + 1 :]))
    pages = set(one.files) - {"index.html", "wanted/index.html", "all/index.html"}
    assert before == pages  # the concept pages, and nothing else, before
    assert {"index.html", "wanted/index.html", "all/index.html"} <= after
    assert before | after == set(one.files)


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_parallel_render_into_a_stage_writes_the_same_files(tmp_path: Path) -> None:
    notes, files = synthetic_notes(PARALLEL_MIN_PAGES + 50)
    cg = build_graph(notes, files)
    config, _ = load_config(tmp_path, tmp_path / "site", execute=False)
    one = render_site(cg, config, cells={})
    stage = tmp_path / "stage"
    stage.mkdir()
    handed: dict[str, bytes] = {}
    two = render_parallel(
        cg,
        config,
        cells={},
        jobs=2,
        renderer=site_renderer(cg, config, cells={}),
        on_files=lambda batch: handed.update(batch.items()),
        stage=stage,
    )
    assert isinstance(two.files, StagedFiles) and two.files.root == stage
    on_disk = {
        p.relative_to(stage).as_posix(): p.read_bytes() for p in stage.rglob("*") if p.is_file()
    }
    assert on_disk == dict(one.files.items())
    assert list(two.files) == sorted(one.files)
    assert handed == on_disk  # every batch was readable when it was handed over
    assert two.dependencies == one.dependencies and two.problems == one.problems


def test_staged_files_stay_inside_their_folder(tmp_path: Path) -> None:
    root = tmp_path / "stage"
    root.mkdir()
    names = StagedFiles.write(root, {"a/b.html": b"x", "../out.html": b"y", "/abs": b"z"})
    assert names == ["a/b.html"]
    assert not (tmp_path / "out.html").exists()
    staged = StagedFiles(root, names)
    assert dict(staged.items()) == {"a/b.html": b"x"} and "c" not in staged


@given(st.integers(0, 2**16))
def test_home_hubs_rank_by_networkx_degree(seed: int) -> None:
    """The home page's hubs: most edges first (counted as networkx counts them, multi-
    edges and self-loops included), then by title."""
    import random
    import tempfile

    notes, files = synthetic_notes(60, seed=seed % 50)
    cg = build_graph(notes, files)
    rng = random.Random(seed)
    keys = sorted(cg.graph.nodes)
    for _ in range(20):  # extra edges: parallel relations, self-loops
        u, v = rng.choice(keys), rng.choice(keys)
        cg.graph.add_edge(u, rng.choice([u, v]), key=rng.choice(["see_also", "embeds"]))
    with tempfile.TemporaryDirectory() as tmp:
        config, _ = load_config(Path(tmp), Path(tmp) / "site", execute=False)
        site = site_renderer(cg, config, cells={})
    pages = site.ctx.pages
    degree = {k: cg.graph.degree(k) if k in cg.graph else 0 for k in pages}
    expected = sorted(degree, key=lambda k: (-degree[k], site.title(k).casefold(), k))[:12]
    assert site.hubs() == expected
