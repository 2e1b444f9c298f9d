"""The command line contract (DESIGN §7) on a small vault whose answers are known by hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import kgraph
from kgraph.cli import main

VAULT = Path(__file__).parent.parent / "vaults" / "cli"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(tmp_path / "cache"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def query_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    code, out, _ = run(capsys, "query", "--vault", str(VAULT), "--format", "json", *args)
    assert code == 0
    return json.loads(out)


def test_show_by_alias_case_insensitively(capsys: pytest.CaptureFixture[str]) -> None:
    shown = query_json(capsys, "show", "a1")
    assert isinstance(shown, dict)
    assert shown["key"] == "alpha" and shown["title"] == "Alpha" and shown["kind"] == "note"
    assert shown["aliases"] == ["A1"]
    assert {"topic/one", "shared", "inline-tag"} <= set(shown["tags"])
    assert shown["notes"][0]["path"] == "Alpha.md"
    assert shown["notes"][0]["date"].startswith("2023-11-14T22:13:20.5")
    out = {(e["relation"], e["target"]) for e in shown["out"]}
    assert out == {
        ("links_to", "beta"),
        ("links_to", "gamma"),
        ("see_also", "delta"),
        ("following", "beta"),
    }
    assert {(e["relation"], e["source"]) for e in shown["in"]} == {
        ("links_to", "beta"),
        ("preceding", "beta"),
    }


def test_nothing_inside_code_or_math_is_a_link(capsys: pytest.CaptureFixture[str]) -> None:
    shown = query_json(capsys, "show", "Gamma")
    assert isinstance(shown, dict)
    assert shown["out"] == []
    wanted = query_json(capsys, "unresolved")
    assert wanted == [{"key": "missing note", "title": "Missing note", "wanted_by": ["beta"]}]


def test_neighbors_relation_direction_depth(capsys: pytest.CaptureFixture[str]) -> None:
    rows = query_json(capsys, "neighbors", "alpha", "--relation", "see_also")
    assert [(r["key"], r["relation"], r["direction"]) for r in rows] == [
        ("delta", "see_also", "out")
    ]
    rows = query_json(capsys, "neighbors", "Beta", "--direction", "out", "--depth", "2")
    keys = {(r["key"], r["depth"]) for r in rows}
    assert ("alpha", 1) in keys and ("missing note", 1) in keys
    assert ("gamma", 2) in keys and ("delta", 2) in keys


def test_backlinks_path_tag_orphans_hubs_relations(capsys: pytest.CaptureFixture[str]) -> None:
    back = query_json(capsys, "backlinks", "Alpha")
    assert {r["key"] for r in back} == {"beta"}
    path = query_json(capsys, "path", "Beta", "Delta")
    assert isinstance(path, dict)
    assert path["path"] == ["beta", "alpha", "delta"]
    assert path["relations"][1] == "see_also"
    tagged = query_json(capsys, "tag", "topic")
    assert [r["key"] for r in tagged] == ["alpha"]  # nested topic/one matches topic
    assert {r["key"] for r in query_json(capsys, "tag", "SHARED")} == {"alpha", "beta"}
    assert [r["key"] for r in query_json(capsys, "orphans")] == ["lonely"]
    hubs = query_json(capsys, "hubs", "--top", "1")
    assert [h["key"] for h in hubs] == ["alpha"]
    relations = query_json(capsys, "relations")
    assert relations == {"following": 1, "links_to": 4, "preceding": 1, "see_also": 1}


def test_unknown_concept_exits_1_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "query", "--vault", str(VAULT), "show", "Alpah")
    assert code == 1 and out == ""
    assert "unknown concept 'Alpah'" in err and "did you mean" in err and "Alpha" in err


def test_text_output_names_the_concepts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "--vault", str(VAULT), "backlinks", "gamma")
    assert code == 0 and "Alpha" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["query", "--vault", str(VAULT), "no-such-verb"])
    assert exc.value.code == 2
    code, _, err = run(capsys, "check", str(VAULT / "absent"))
    assert code == 2 and "no vault folder" in err
    for args, said in (
        (["--depth", "abc"], "--depth: 'abc' is not a whole number"),
        (["--depth", "0"], "--depth: must be at least 1"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["query", "--vault", str(VAULT), "neighbors", "Alpha", *args])
        assert exc.value.code == 2
        assert said in capsys.readouterr().err


def test_check_lines_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(VAULT))
    assert code == 0  # warnings only
    lines = out.strip().splitlines()
    assert any(
        line.endswith("Beta.md:6: unresolved-link no note for [[Missing note]]") for line in lines
    )
    code, out, _ = run(capsys, "check", str(VAULT), "--strict")
    assert code == 1
    code, out, _ = run(capsys, "check", str(VAULT), "--format", "json")
    problems = json.loads(out)
    assert {"file", "line", "code", "severity", "message"} <= set(problems[0])
    assert {"file": "Beta.md", "line": 6, "code": "unresolved-link"}.items() <= problems[0].items()


def test_check_exits_1_on_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "kgraph.yaml").write_text("ignore: [unclosed\n")
    (vault / "a.md").write_text("hello")
    code, out, _ = run(capsys, "check", str(vault))
    assert code == 1 and "kgraph.yaml:" in out and "config-error" in out


def test_settings_whose_aliases_expand_without_end_are_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    (vault / "kgraph.yaml").write_text("\n".join(lines) + "\ntitle: Bomb\n")
    (vault / "a.md").write_text("hello")
    code, out, _ = run(capsys, "check", str(vault))
    assert code == 1 and "kgraph.yaml:1: config-error" in out and "aliases" in out


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json", "csv"])
def test_export_reads_back(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"g.{fmt}"
    code, printed, _ = run(capsys, "export", str(VAULT), "--format", fmt, "-o", str(out))
    assert code == 0 and printed.strip()
    kg = kgraph.load(VAULT)
    if fmt == "graphml":
        back = nx.read_graphml(out, force_multigraph=True)
    elif fmt == "gexf":
        back = nx.read_gexf(out)
    elif fmt == "json":
        back = nx.node_link_graph(json.loads(out.read_text()), edges="edges")
    else:
        nodes = (tmp_path / "g.nodes.csv").read_text().strip().splitlines()
        edges = (tmp_path / "g.edges.csv").read_text().strip().splitlines()
        assert len(nodes) - 1 == kg.graph.number_of_nodes()
        assert len(edges) - 1 == kg.graph.number_of_edges()
        return
    assert set(back.nodes) == set(kg.graph.nodes)
    assert back.number_of_edges() == kg.graph.number_of_edges()
    assert back.nodes["alpha"]["title"] == "Alpha"


def test_python_api_matches_cli(capsys: pytest.CaptureFixture[str]) -> None:
    kg = kgraph.load(VAULT)
    assert isinstance(kg.graph, nx.MultiDiGraph)
    assert kg.graph.has_edge("alpha", "delta", key="see_also")
    assert kg.backlinks("alpha") == query_json(capsys, "backlinks", "alpha")
    assert kg.show("A1")["key"] == "alpha"


def test_module_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kgraph", "query", "--vault", str(VAULT), "relations"],
        capture_output=True,
        text=True,
        env={"KGRAPH_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).parent.parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "links_to" in done.stdout


def test_parse_cache_reuses_unchanged_files(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    shutil.copytree(VAULT, vault)
    cache = tmp_path / "c"
    first = kgraph.load(vault, cache_dir=cache)
    assert first.vault.reparsed == 5
    second = kgraph.load(vault, cache_dir=cache)
    assert second.vault.reparsed == 0
    assert nx.utils.edges_equal(first.graph.edges(keys=True), second.graph.edges(keys=True))
    beta = vault / "Beta.md"
    beta.write_text(beta.read_text().replace("[[Missing note]]", "[[Lonely]]"))
    third = kgraph.load(vault, cache_dir=cache)
    assert third.vault.reparsed == 1
    assert third.graph.has_edge("beta", "lonely")
    assert "missing note" not in third.graph


def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    cache = tmp_path / "c"
    kgraph.load(VAULT, cache_dir=cache)
    for f in cache.glob("parse-*/*.pickle"):
        f.write_bytes(f.read_bytes()[:-20])
    kg = kgraph.load(VAULT, cache_dir=cache)
    assert kg.vault.reparsed == 5
    assert any(p.code == "cache-corrupt" for p in kg.problems)
    assert kgraph.load(VAULT, cache_dir=cache).vault.reparsed == 0


def test_a_whole_foreign_parse_cache_is_one_warning(tmp_path: Path) -> None:
    """Every bucket unreadable at once (a cache another kgraph version wrote): one
    `cache-corrupt` for the folder, naming how many, instead of one per bucket."""
    cache = tmp_path / "c"
    kgraph.load(VAULT, cache_dir=cache)
    buckets = sorted(cache.glob("parse-*/*.pickle"))
    assert len(buckets) > 1
    for f in buckets:
        f.write_bytes(f.read_bytes().replace(b"parse-bucket-v", b"parse-bucket-x", 1))
    kg = kgraph.load(VAULT, cache_dir=cache)
    found = [p for p in kg.problems if p.code == "cache-corrupt"]
    assert len(found) == 1 and found[0].file == buckets[0].parent.name
    assert found[0].message.startswith(f"{len(buckets)} parse cache files ignored and rebuilt")
    assert kg.vault.reparsed == 5
    assert kgraph.load(VAULT, cache_dir=cache).vault.reparsed == 0


def test_query_snapshot_follows_edits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = tmp_path / "v"
    shutil.copytree(VAULT, vault)
    args = ["query", "--vault", str(vault), "--format", "json", "backlinks", "Lonely"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert list((tmp_path / "cache").glob("graph-*.pickle")), "a snapshot is saved"
    (vault / "Delta.md").write_text("Delta now links [[Lonely]].\n")
    assert main(args) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == ["delta"]
    # A snapshot from another vault state is never used: a corrupt one is ignored too.
    for f in (tmp_path / "cache").glob("graph-*.pickle"):
        f.write_bytes(b"junk")
    assert main(args) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == ["delta"]


def test_build_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty

    vault = tmp_path / "v"
    shutil.copytree(VAULT, vault)
    env = {**os.environ, "KGRAPH_CACHE_DIR": str(tmp_path / "c"), "COLUMNS": "100"}
    cmd = [sys.executable, "-m", "kgraph", "build", str(vault), "-o", str(tmp_path / "site")]
    root = Path(__file__).parent.parent.parent
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=follower, stderr=follower, env=env, cwd=root)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(120) == 0
    os.close(leader)
    assert b"stages" in seen  # the progress bar
    assert b"pages" in seen and b"written" in seen  # the summary
    piped = subprocess.run(cmd, capture_output=True, env=env, cwd=root, check=True)
    assert b"stages" not in piped.stdout + piped.stderr


def test_a_vault_that_links_back_to_its_own_folders_builds_and_answers(tmp_path: Path) -> None:
    """Two links back to the vault in one folder: each note is read once, and neither
    the build nor the query's vault fingerprint walks in circles (it used to never end)."""
    import os

    vault = tmp_path / "v"
    shutil.copytree(VAULT, vault)
    (vault / "sub" / "up").symlink_to(vault, target_is_directory=True)
    (vault / "sub" / "up2").symlink_to(vault, target_is_directory=True)
    env = {**os.environ, "KGRAPH_CACHE_DIR": str(tmp_path / "c")}
    root = Path(__file__).parent.parent.parent
    report = tmp_path / "report.json"
    build = [sys.executable, "-m", "kgraph", "build", str(vault), "-o", str(tmp_path / "site")]
    done = subprocess.run(
        [*build, "--report", str(report)], capture_output=True, env=env, cwd=root, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["notes"] == len(list(VAULT.rglob("*.md")))
    query = [sys.executable, "-m", "kgraph", "query", "--vault", str(vault), "--format", "json"]
    done = subprocess.run(
        [*query, "backlinks", "Lonely"], capture_output=True, env=env, cwd=root, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_a_note_whose_name_is_not_utf8_is_skipped_and_the_rest_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    vault = tmp_path / "v"
    shutil.copytree(VAULT, vault)
    with open(os.fsencode(vault) + b"/Caf\xe9.md", "wb") as f:
        f.write(b"# Old name\n\nLinks [[Alpha]].\n")
    report = tmp_path / "report.json"
    code, _, err = run(
        capsys, "build", str(vault), "-o", str(tmp_path / "site"), "--report", str(report)
    )
    assert code == 0, err
    found = json.loads(report.read_text(encoding="utf-8"))
    assert found["notes"] == len(list(VAULT.rglob("*.md")))
    assert [w["file"] for w in found["warnings"] if w["code"] == "bad-file-name"] == [
        "Caf\ufffd.md"
    ]
    assert (tmp_path / "site" / "alpha" / "index.html").is_file()


def test_a_file_where_the_output_or_the_cache_should_be_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_text("keep me")
    code, _, err = run(capsys, "build", str(VAULT), "-o", str(mine))
    assert code == 1 and "is a file, not a folder" in err
    assert mine.read_text() == "keep me"  # it used to be replaced by the site
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(mine))
    code, _, err = run(capsys, "build", str(VAULT), "-o", str(tmp_path / "site"))
    assert code == 1 and f"cannot use {mine} as the cache folder" in err
    assert mine.read_text() == "keep me"


def test_an_export_or_report_that_cannot_be_written_is_an_error_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, _, err = run(capsys, "export", "--format", "json", str(VAULT), "-o", str(folder))
    assert code == 1 and f"kgraph: error: cannot write {folder}" in err
    site = tmp_path / "site"
    code, _, err = run(capsys, "build", str(VAULT), "-o", str(site), "--report", str(folder))
    assert code == 1 and f"cannot write the report {folder}" in err
    assert (site / "index.html").is_file()  # the site itself is built
