"""Incremental builds: exactly the affected pages change, and the result equals a clean build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.cli import main

# A chain A - B - C - D - E (each links the next) and an unrelated F.
CHAIN = {
    "A.md": "---\ntitle: Alpha\ntags: [greek]\n---\nAlpha leads to [[Beta]].\n",
    "B.md": "---\ntitle: Beta\n---\nBeta leads to [[Gamma]].\n",
    "C.md": "---\ntitle: Gamma\ntags: [greek]\n---\n"
    "Gamma leads to [[Delta]]. It wants [[Omega]].\n",
    "D.md": "---\ntitle: Delta\n---\nDelta leads to [[Epsilon]].\n",
    "E.md": "---\ntitle: Epsilon\n---\nEpsilon ends the chain.\n",
    "F.md": "---\ntitle: Phi\n---\nPhi stands alone.\n",
}
ROOT = Path(__file__).parent.parent.parent


def make_vault(root: Path, files: dict[str, str] = CHAIN) -> Path:
    vault = root / "vault"
    for rel, text in files.items():
        path = vault / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return vault


def build(vault: Path, out: Path) -> dict:
    report = out.parent / f"{out.name}-report.json"
    assert main(["build", str(vault), "-o", str(out), "--report", str(report), "--quiet"]) == 0
    return json.loads(report.read_text())


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every published file (the search index aside) with its mtime and bytes."""
    found = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not rel.startswith("pagefind/"):
            found[rel] = (path.stat().st_mtime_ns, path.read_bytes())
    return found


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def clean_build_equals(vault: Path, out: Path) -> None:
    """A clean build into a fresh folder gives the same bytes as the incremental one."""
    fresh = out.parent / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    build(vault, fresh)
    a = {k: v[1] for k, v in snapshot(out).items()}
    b = {k: v[1] for k, v in snapshot(fresh).items()}
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    shutil.rmtree(fresh)


def test_noop_rebuild_writes_nothing(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    first = build(vault, out)
    assert first["pages"]["written"] > 0
    before = snapshot(out)
    second = build(vault, out)
    assert second["pages"]["written"] == 0 and second["pages"]["removed"] == 0
    assert second["pages"]["rendered"] < first["pages"]["rendered"]
    assert snapshot(out) == before  # same bytes and same mtimes


def test_title_rename_updates_the_pages_showing_it_and_no_other(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    before = snapshot(out)
    c = vault / "C.md"
    c.write_text(c.read_text().replace("title: Gamma", "title: Gamma prime"))
    (vault / "B.md").write_text("---\ntitle: Beta\n---\nBeta leads to [[C|Gamma]].\n")
    report = build(vault, out)
    after = snapshot(out)
    diff = changed(before, after)
    # The renamed page moves; its neighbours up to two steps show its title.
    assert "gamma/index.html" in diff and "gamma-prime/index.html" in diff
    assert {"beta/index.html", "delta/index.html"} <= diff
    assert {"alpha/index.html", "epsilon/index.html"} <= diff  # local graph, two steps
    assert "all/index.html" in diff and "tags/greek/index.html" in diff
    assert "phi/index.html" not in diff
    for page in ("beta", "delta", "alpha", "epsilon"):
        assert "Gamma prime" in (out / page / "index.html").read_text()
    assert report["pages"]["removed"] >= 1
    clean_build_equals(vault, out)


def test_delete_turns_links_into_stub_links(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    before = snapshot(out)
    (vault / "D.md").unlink()
    report = build(vault, out)
    diff = changed(before, snapshot(out))
    assert "delta/index.html" in diff  # now the page of a wanted concept
    page = (out / "delta" / "index.html").read_text()
    assert "Gamma" in page  # who wants it
    gamma = (out / "gamma" / "index.html").read_text()
    assert 'class="internal stub"' in gamma
    assert "phi/index.html" not in diff
    assert any(w["code"] == "unresolved-link" and w["file"] == "C.md" for w in report["warnings"])
    (vault / "E.md").unlink()
    build(vault, out)
    assert not (out / "epsilon").exists()
    # The search index no longer knows the removed page; it still knows the others.
    sources = next((tmp_path / ".kgraph-cache").glob("pages-*.search"))
    assert not (sources / "epsilon" / "index.html").exists()
    assert b"Alpha leads" in (sources / "alpha" / "index.html").read_bytes()
    clean_build_equals(vault, out)


def test_a_tagged_note_deleted_but_still_wanted_leaves_its_tag_pages(tmp_path: Path) -> None:
    """Its concept becomes a stub: the tag pages are rendered again (they are not for a
    stub that came, went or was renamed, but this one was a note)."""
    files = {
        "A.md": "---\ntags: [solo, shared]\n---\nAlpha.\n",
        "B.md": "---\ntags: [shared]\n---\nBeta links [[A]].\n",
        "C.md": "---\ntags: [shared]\n---\nGamma.\n",
    }
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    build(vault, out)
    assert (out / "tags" / "solo" / "index.html").is_file()
    (vault / "A.md").unlink()
    build(vault, out)
    assert not (out / "tags" / "solo").exists()
    assert 'href="../../a/' not in (out / "tags" / "shared" / "index.html").read_text()
    clean_build_equals(vault, out)


def test_adding_a_note_resolves_its_stub(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    assert 'class="internal stub"' in (out / "gamma" / "index.html").read_text()
    before = snapshot(out)
    (vault / "Omega.md").write_text("---\ntitle: Omega\n---\nThe end.\n")
    report = build(vault, out)
    diff = changed(before, snapshot(out))
    assert {"omega/index.html", "gamma/index.html", "wanted/index.html"} <= diff
    assert 'class="internal stub"' not in (out / "gamma" / "index.html").read_text()
    assert report["stubs"] == 0
    assert "phi/index.html" not in diff
    clean_build_equals(vault, out)


def search_sources(cache: Path) -> dict[str, bytes]:
    """The search sources the build keeps (site path -> bytes), whatever their shard."""
    (folder,) = cache.glob("*.search")
    found = {}
    for path in folder.rglob("*.html"):
        rel = path.relative_to(folder).as_posix()
        found[rel.split("/", 1)[1] if rel.startswith("_shard-") else rel] = path.read_bytes()
    return found


def test_a_new_stub_changes_only_the_edited_pages_search_source(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    before = search_sources(tmp_path / ".kgraph-cache")
    assert "omega/index.html" not in before, "stub pages are not searched"
    assert "gamma/index.html" in before
    (vault / "B.md").write_text("---\ntitle: Beta\n---\nBeta leads to [[Gamma]] and [[Zeta]].\n")
    report = build(vault, out)
    assert report["stubs"] == 2
    assert (out / "zeta" / "index.html").is_file()
    after = search_sources(tmp_path / ".kgraph-cache")
    assert changed(before, after) == {"beta/index.html"}
    clean_build_equals(vault, out)


def test_an_edit_indexes_its_own_search_shard_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgraph.site import search

    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    ran: list[Path] = []
    real = search._run_pagefind

    def counted(site: Path, output: Path, background: bool = False) -> str | None:
        ran.append(output)
        return real(site, output, background)

    monkeypatch.setattr(search, "_run_pagefind", counted)
    # A new link: Beta's page and its neighbours' (their asides) render again.
    (vault / "B.md").write_text("---\ntitle: Beta\n---\nBeta leads to [[Gamma]] and [[Phi]].\n")
    report = build(vault, out)
    assert report["pages"]["rendered"] > 2
    assert [p.parent.name for p in ran] == [".site.pagefind-head"], "indexed ahead, once"
    assert not (tmp_path / ".site.pagefind-head").exists()
    (sources,) = (tmp_path / ".kgraph-cache").glob("*.search")
    fresh = tmp_path / "fresh-index"
    assert search.build_search_index(sources, fresh) == []
    index = {
        p.relative_to(out / "pagefind"): p.read_bytes() for p in (out / "pagefind").rglob("*.*")
    }
    again = {p.relative_to(fresh): p.read_bytes() for p in fresh.rglob("*.*")}
    assert any(p.name == "pagefind-entry.json" for p in index)
    assert index == again, "the index equals one made from scratch"
    clean_build_equals(vault, out)


def test_pages_rendered_again_fill_their_stored_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgraph.vault import fastrender

    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")  # the stores are written before exit
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    compiled: list[str] = []
    real = fastrender.compile_body

    def counted(body: str, body_line: int) -> fastrender.Compiled | None:
        compiled.append(body)
        return real(body, body_line)

    monkeypatch.setattr(fastrender, "compile_body", counted)
    before = snapshot(out)
    (vault / "B.md").write_text("---\ntitle: Beta\n---\nBeta leads to [[Gamma]] and [[Phi]].\n")
    report = build(vault, out)
    diff = changed(before, snapshot(out))
    # Gamma's and Phi's pages show the new link; their bodies come from the store.
    assert {"beta/index.html", "gamma/index.html", "phi/index.html"} <= diff
    assert report["pages"]["rendered"] >= 3
    assert compiled == ["Beta leads to [[Gamma]] and [[Phi]].\n"], "only the edited body"
    monkeypatch.undo()
    clean_build_equals(vault, out)


def test_template_edit_rerenders_the_pages_using_it(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    templates = vault / "_templates"
    templates.mkdir()
    (vault / "kgraph.yaml").write_text("templates: _templates\nignore: [_templates]\n")
    build(vault, out)
    before = snapshot(out)
    shipped = (ROOT / "site_templates" / "concept.html").read_text()
    assert "{% block main %}" in shipped
    (templates / "concept.html").write_text(
        shipped.replace("{% block main %}", "{% block main %}<p class='mark'>custom</p>", 1)
    )
    build(vault, out)
    diff = changed(before, snapshot(out))
    concept_pages = {f"{s}/index.html" for s in ("alpha", "beta", "gamma", "delta")}
    assert concept_pages <= diff
    assert "all/index.html" not in diff  # does not use concept.html
    assert "custom" in (out / "phi" / "index.html").read_text()
    clean_build_equals(vault, out)


def test_corrupt_page_state_is_rebuilt_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written before the build returns: a detached writer could still be writing it (then
    # no file is there to damage yet, and the next build waits for a sound one).
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    for state in (tmp_path / ".kgraph-cache").glob("pages-*.pickle"):
        state.write_bytes(b"garbage")
    report = build(vault, out)
    assert any(w["code"] == "cache-corrupt" for w in report["warnings"])
    assert report["pages"]["written"] == 0  # everything rendered again, same bytes
    clean_build_equals(vault, out)


def test_foreign_output_folder_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert main(["build", str(vault), "-o", str(out), "--quiet"]) == 1
    assert "not written by kgraph" in capsys.readouterr().err
    assert (out / "precious.txt").read_text() == "keep me"


def _build_cmd(vault: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "kgraph", "build", str(vault), "-o", str(out), "--quiet"]


def test_two_builds_at_once_do_not_corrupt_anything(tmp_path: Path) -> None:
    files = {f"n{i}.md": f"Note {i} links [[n{(i + 1) % 300}]].\n" for i in range(300)}
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(_build_cmd(vault, out), env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0
    if codes[1] != 0:  # the second one met the lock
        assert any("another kgraph build is running" in err for _, err in results)
    build(vault, out)
    clean_build_equals(vault, out)


def test_kill_9_leaves_the_previous_site_and_the_next_build_correct(tmp_path: Path) -> None:
    files = {f"n{i}.md": f"Note {i} links [[n{(i + 1) % 400}]].\n" for i in range(400)}
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    build(vault, out)
    published = {k: v[1] for k, v in snapshot(out).items()}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for i, delay in enumerate((0.3, 0.8, 1.5, 2.5)):
        (vault / "n0.md").write_text(f"Note 0, edit {i}, links [[n1]].\n")
        proc = subprocess.Popen(_build_cmd(vault, out), env=env, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        now = {k: v[1] for k, v in snapshot(out).items()} if out.exists() else None
        # Either the old site or a complete new one, never a mixture.
        if now is not None and now != published:
            assert now.keys() == published.keys()
            assert b"edit" in now["n0/index.html"]
            published = now
    build(vault, out)
    assert b"edit 3" in (out / "n0" / "index.html").read_bytes()
    clean_build_equals(vault, out)


def test_prose_edit_of_a_linked_note_rerenders_only_its_page(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    before = snapshot(out)
    b = vault / "B.md"
    b.write_text(b.read_text() + "\nA new paragraph, with no link in it.\n")
    report = build(vault, out)
    diff = changed(before, snapshot(out))
    assert diff == {"beta/index.html"}
    assert report["pages"]["written"] == 1
    # Editing the sentence around a link changes the backlink shown on the target's page.
    b.write_text(b.read_text().replace("Beta leads", "Beta, reworded, leads"))
    before = snapshot(out)
    build(vault, out)
    assert changed(before, snapshot(out)) == {"beta/index.html", "gamma/index.html"}
    clean_build_equals(vault, out)


def test_a_build_stopped_after_reading_does_not_hide_the_edit(tmp_path: Path) -> None:
    """The parse cache may move on without the page state (a build killed after reading);
    the next build must still see every file that changed since the state was saved."""
    from kgraph.vault.load import load_vault

    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    b = vault / "B.md"
    b.write_text(b.read_text().replace("Beta leads", "Beta, reworded, leads"))
    load_vault(vault, cache_dir=tmp_path / ".kgraph-cache", jobs=1)  # reads, then "dies"
    before = snapshot(out)
    build(vault, out)
    assert changed(before, snapshot(out)) == {"beta/index.html", "gamma/index.html"}
    assert "Beta, reworded, leads" in (out / "beta/index.html").read_text()
    clean_build_equals(vault, out)


def test_an_edit_leaves_its_parse_cache_write_to_the_caller(tmp_path: Path) -> None:
    """With `defer_cache`, the edited files' cache buckets come back unsaved; written
    later, they serve the next read, which then parses nothing."""
    from kgraph.vault.load import load_vault, save_buckets

    vault = make_vault(tmp_path)
    cache = tmp_path / ".kgraph-cache"
    first = load_vault(vault, cache_dir=cache, jobs=1, defer_cache=True)
    assert first.reparsed == len(first.note_files) and first.unsaved  # a cold read: all new
    save_buckets(first.unsaved)
    b = vault / "B.md"
    b.write_text(b.read_text().replace("Beta leads", "Beta, reworded, leads"))
    edit = load_vault(vault, cache_dir=cache, jobs=1, defer_cache=True)
    assert edit.reparsed == 1
    assert len(edit.unsaved) == 1  # only B's bucket, and it was not written
    again = load_vault(vault, cache_dir=cache, jobs=1)
    assert again.reparsed == 1  # the write was left to the caller
    save_buckets(edit.unsaved)
    after = load_vault(vault, cache_dir=cache, jobs=1)
    assert after.reparsed == 0
    assert [n.body for n in after.notes] == [n.body for n in edit.notes]


def test_index_pages_are_rendered_again_only_in_the_parts_an_edit_touches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Home, wanted and the global graph show edges; A-Z, tags and figures only names.
    A new link renders the first again and not the lists; a tag edit renders the lists."""
    from kgraph.site.render import SiteRenderer

    calls: list[str] = []
    for name in ("home_page", "wanted_page", "graph_page", "all_page", "tag_pages"):
        real = getattr(SiteRenderer, name)

        def counting(self: SiteRenderer, *args: object, _real=real, _name=name) -> object:
            calls.append(_name)
            return _real(self, *args)

        monkeypatch.setattr(SiteRenderer, name, counting)
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    assert set(calls) == {"home_page", "wanted_page", "graph_page", "all_page", "tag_pages"}

    def edit(rel: str, old: str, new: str) -> set[str]:
        path = vault / rel
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
        calls.clear()
        build(vault, out)
        return set(calls)

    # A prose edit: no index page.
    assert edit("F.md", "stands alone.", "stands alone, still.") == set()
    # A new link between notes that have pages: the pages showing edges, not the lists.
    before = snapshot(out)
    assert edit("F.md", "still.", "still, near [[Alpha]].") == {
        "home_page",
        "wanted_page",
        "graph_page",
    }
    diff = changed(before, snapshot(out))
    assert "graph/graph-data.js" in diff
    assert not diff & {"all/index.html", "tags/index.html", "tags/greek/index.html"}
    clean_build_equals(vault, out)
    # A new tag: the lists too, and its page appears.
    assert "tag_pages" in edit("F.md", "title: Phi\n", "title: Phi\ntags: [latin]\n")
    assert (out / "tags" / "latin" / "index.html").is_file()
    clean_build_equals(vault, out)
    # The last note with a tag loses it: the lists are rendered and its page goes.
    assert "all_page" in edit("F.md", "tags: [latin]\n", "")
    assert not (out / "tags" / "latin" / "index.html").exists()
    clean_build_equals(vault, out)
    # A link to a note that does not exist: a new stub, listed by A-Z and wanted, but
    # in no tag page (a stub has no tags).
    assert edit("E.md", "ends the chain.", "ends the chain, unlike [[Psi]].") == {
        "all_page",
        "home_page",
        "wanted_page",
        "graph_page",
    }
    clean_build_equals(vault, out)
    # The link goes: so does the stub.
    assert edit("E.md", ", unlike [[Psi]].", ".") >= {"all_page", "wanted_page"}
    assert not (out / "psi" / "index.html").exists()
    clean_build_equals(vault, out)


def _hub_vault(root: Path) -> Path:
    """Forty notes link a hub; the hub links one of them. Each note's local graph shows
    the hub and its first neighbours in key order."""
    files = {f"N{i:02d}.md": f"Note {i:02d} points at [[Hub]].\n" for i in range(40)}
    files["Hub.md"] = "The hub, which links [[N05]].\n"
    files["Zeta.md"] = "Zeta stands apart.\n"
    return make_vault(root, files)


def test_a_hubs_new_link_renders_only_the_pages_whose_picture_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's new link changes what the forty pages showing the hub know of it, but
    only the pages at both ends (and those whose local graph would draw the new edge)
    look different: the rest are not rendered again."""
    from kgraph.site.render import SiteRenderer

    rendered: list[str] = []
    real = SiteRenderer.concept_page

    def counting(self: SiteRenderer, key: str) -> object:
        rendered.append(str(self.title(key)))
        return real(self, key)

    monkeypatch.setattr(SiteRenderer, "concept_page", counting)
    vault = _hub_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    assert len(rendered) == 42
    hub = vault / "Hub.md"
    rendered.clear()
    hub.write_text(hub.read_text() + "And [[Zeta]].\n")  # zeta sorts after every note
    build(vault, out)
    assert sorted(rendered) == ["Hub", "Zeta"]
    assert "Zeta" in (out / "hub" / "index.html").read_text()
    clean_build_equals(vault, out)
    # A link to a note early in key order enters the local graphs of the hub's
    # neighbours: those pages are rendered (and do change).
    rendered.clear()
    before = snapshot(out)
    hub.write_text(hub.read_text() + "And [[N00]] too.\n")
    build(vault, out)
    assert {"Hub", "N00"} <= set(rendered) and len(rendered) > 10
    assert "n01/index.html" in changed(before, snapshot(out))
    clean_build_equals(vault, out)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["Hub", "N03", "N17", "N39", "Zeta"]), st.integers(0, 44)),
        min_size=1,
        max_size=3,
    )
)
def test_incremental_link_edits_equal_a_clean_build(edits: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        vault = _hub_vault(root)
        # Notes, and stubs: one written two ways, one taking note N03's plain slug.
        names = [f"N{i:02d}" for i in range(40)] + ["Hub", "Zeta", "Wish", "wish", "(N03)"]
        out = root / "site"
        build(vault, out)
        for source, target in edits:
            path = vault / f"{source}.md"
            text = path.read_text()
            link = f"[[{names[target]}]]"
            # Add the link, or take it out again when the note has it already.
            path.write_text(text.replace(link, "") if link in text else text + f"See {link}.\n")
            build(vault, out)
        clean_build_equals(vault, out)


def test_the_global_graph_is_rendered_early_when_linking_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a large vault, a build that links anew starts the global graph in a forked
    process while it decides what else to render; it is used when a link changed and
    stopped when none did. Either way the site is a clean build's."""
    import kgraph.earlygraph
    from kgraph.site.parallel import PARALLEL_MIN_PAGES, EarlyPart
    from kgraph.site.search import IndexRun

    # The layout started before reading (kgraph.earlygraph, tested below) is left out here.
    monkeypatch.setattr(kgraph.earlygraph, "worth_starting", lambda *_: False)
    n = PARALLEL_MIN_PAGES + 20
    files = {f"N{i:03d}.md": f"Note {i} links [[N{(i * 7 + 1) % n:03d}]].\n" for i in range(n)}
    vault = make_vault(tmp_path, files)
    out = tmp_path / "site"
    calls: list[str] = []
    for cls, name in [(EarlyPart, n) for n in ("__init__", "result", "cancel")] + [
        (IndexRun, "__init__")
    ]:
        real = getattr(cls, name)

        def recording(self: object, *args: object, _real=real, _name=name, _cls=cls) -> object:
            calls.append(_name if _cls is EarlyPart else "index")
            return _real(self, *args)

        monkeypatch.setattr(cls, name, recording)
    import kgraph.publish

    listed = kgraph.publish._existing
    monkeypatch.setattr(
        kgraph.publish, "_existing", lambda out: calls.append("list") or listed(out)
    )

    def build_two() -> dict:
        report = tmp_path / "report.json"
        cmd = ["build", str(vault), "-o", str(out), "--jobs", "2", "--quiet"]
        assert main([*cmd, "--report", str(report)]) == 0
        return json.loads(report.read_text())

    build_two()
    assert calls == ["index", "list"]  # a first build renders everything anyway
    calls.clear()
    note = vault / "N005.md"
    note.write_text(note.read_text() + "It also links [[N300]].\n")
    build_two()
    # The search index starts while the global graph is still being laid out; the
    # published site is listed once, to publish.
    assert calls[:3] == ["__init__", "index", "result"]
    assert calls.count("list") == 1 and calls.index("list") > calls.index("result")
    assert "N300" in (out / "graph" / "graph-data.js").read_text()
    clean_build_equals(vault, out)
    calls.clear()
    graph_data = (out / "graph" / "graph-data.js").stat().st_mtime_ns
    note.write_text(note.read_text() + "\n## A heading\n\nNo new link.\n")  # links anew
    build_two()
    assert calls[0] == "__init__" and "result" not in calls and "cancel" in calls
    assert calls.count("index") == calls.count("list") == 1
    clean_build_equals(vault, out)
    # Prose written above a link moves it a line down: relinked, the same edges, so the
    # global graph is not started at all.
    calls.clear()
    note.write_text("A line written first.\n" + note.read_text())
    build_two()
    assert calls == ["index", "list"]
    assert (out / "graph" / "graph-data.js").stat().st_mtime_ns == graph_data
    clean_build_equals(vault, out)
    # New settings and a new link: the graph starts before the page state says that
    # every page is rendered again, and is stopped then (it is rendered in its turn).
    calls.clear()
    (vault / "kgraph.yaml").write_text("title: Another title\n")
    note.write_text(note.read_text() + "It also links [[N301]].\n")
    build_two()
    assert calls[:2] == ["__init__", "cancel"] and "result" not in calls
    assert "N301" in (out / "graph" / "graph-data.js").read_text()
    clean_build_equals(vault, out)


def test_a_searchable_global_graph_page_is_indexed_after_its_early_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search index starts before the early global graph is in, since index pages
    have no searchable article; a template that gives the graph page one gets it
    indexed all the same (the index runs again with its shard)."""
    from kgraph.site import search
    from kgraph.site.parallel import PARALLEL_MIN_PAGES

    # Four shards, and an edited note whose page is in another shard than the graph's.
    monkeypatch.setattr(search, "shard_count", lambda pages, *_: 4 if pages > 1 else 1)
    edited = next(
        i
        for i in range(9)
        if search.shard_of(f"n00{i}/index.html", 4) != search.shard_of("graph/index.html", 4)
    )
    n = PARALLEL_MIN_PAGES + 20
    files = {f"N{i:03d}.md": f"Note {i} links [[N{(i * 7 + 1) % n:03d}]].\n" for i in range(n)}
    vault = make_vault(tmp_path, files)
    templates = vault / "_templates"
    templates.mkdir()
    (vault / "kgraph.yaml").write_text("templates: _templates\nignore: [_templates]\n")
    shipped = (ROOT / "site_templates" / "graph.html").read_text()
    (templates / "graph.html").write_text(
        shipped.replace(
            "{% block main %}",
            "{% block main %}<article data-pagefind-body><p>Graphwords {{ count }}</p></article>",
            1,
        )
    )
    out = tmp_path / "site"
    cmd = ["build", str(vault), "-o", str(out), "--jobs", "2", "--quiet"]
    assert main(cmd) == 0
    note = vault / f"N00{edited}.md"
    note.write_text(note.read_text() + "It also wants [[Nowhere]].\n")  # a stub: one more
    assert main(cmd) == 0
    assert f"Graphwords {n + 1}" in (out / "graph" / "index.html").read_text()
    fresh = tmp_path / "fresh"
    assert main(["build", str(vault), "-o", str(fresh), "--quiet"]) == 0

    def index(site: Path) -> dict[str, bytes]:
        found = (site / "pagefind").rglob("*")
        return {p.relative_to(site).as_posix(): p.read_bytes() for p in found if p.is_file()}

    assert index(out) == index(fresh)  # the graph page's shard was indexed again


def _full_disk(*args: object) -> None:
    raise OSError(28, "No space left on device")


def _unsaved(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in report["warnings"] if w["code"] == "cache-unsaved"]


def test_what_the_writer_failed_to_save_is_reported_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caches are saved after the build (a detached process, inline here): a failure
    there has nobody to tell but the next build, which warns and does the work again."""
    from kgraph.graph import kept
    from kgraph.statefile import PendingState

    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    monkeypatch.setattr(kept, "save_kept", _full_disk)
    monkeypatch.setattr(PendingState, "write", _full_disk)
    first = build(vault, out)
    assert not _unsaved(first)
    monkeypatch.undo()
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")

    (vault / "F.md").write_text("---\ntitle: Phi\n---\nPhi stands alone, still.\n")
    second = build(vault, out)
    unsaved = _unsaved(second)
    assert len(unsaved) == 2 and all(w["severity"] == "warning" for w in unsaved)
    text = " ".join(w["message"] for w in unsaved)
    assert "the page state: OSError" in text and "_full_disk: OSError" in text
    assert text.count("No space left on device") == 2
    # Without the page state, every page was rendered again: none is trusted.
    assert second["pages"]["rendered"] == first["pages"]["rendered"]
    clean_build_equals(vault, out)

    (vault / "F.md").write_text("---\ntitle: Phi\n---\nPhi stands alone, again.\n")
    third = build(vault, out)
    assert not _unsaved(third)  # told once
    assert third["pages"]["rendered"] < second["pages"]["rendered"]  # the state was saved


def test_a_build_after_a_failed_save_is_not_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing in the vault changed, but the kept graph was not saved: the next build
    must not take the no-op path (which would keep the failure untold), and the one
    after it may."""
    from kgraph.graph import kept

    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    monkeypatch.setattr(kept, "save_kept", _full_disk)
    first = build(vault, out)
    monkeypatch.undo()
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")

    second = build(vault, out)
    unsaved = _unsaved(second)
    assert len(unsaved) == 1 and "No space left on device" in unsaved[0]["message"]
    assert set(second["timings"]) > {"total"}  # a real build: it read and linked
    assert second["pages"]["written"] == 0 and first["pages"]["written"] > 0
    third = build(vault, out)
    assert set(third["timings"]) == {"total"}  # nothing changed, nothing left to tell
    assert not _unsaved(third)
