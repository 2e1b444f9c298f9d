"""Benchmark `kgraph build` and `kgraph serve` against a floor, on synthetic vaults.

`python -m benchmarks.bench_build [--notes 1000 10000] [--jobs N]`
Each measurement runs in a fresh process, one after another:
- floor: one process reads, yaml.safe_loads, renders with plain MarkdownIt, writes
  (benchmarks/floor.py)
- cold build: empty output and cache (timed without the memory sampler, then built again
  from nothing to measure memory)
- no-op rebuild: nothing changed
- one-note edit rebuild: one note's prose edited (through the CLI), then a link added
  to that note, then a link to a note that does not exist yet (a new stub)
- serve: from saving a note to the reload event on the SSE stream, and to the new page,
  for an edit of prose and for an edit that adds a link
- warm `kgraph query neighbors`
- peak memory of the cold build: the largest sum of RSS over the build's process tree
Every timed step starts after `os.sync()` (see `quiesce`). kgraph's modules (and the
floor's) are compiled to bytecode first, as installing them leaves them: an environment
with PYTHONDONTWRITEBYTECODE set would otherwise compile them again in every timed
process (0.06-0.08 s, a few per cent of an edit at 10,000 notes).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.bench_load import vault_for
from benchmarks.generate_vault import title_of

OUT = Path(__file__).parent / "out"


def quiesce() -> None:
    """Write back what earlier steps left in the page cache before a timed step starts: a
    cold build leaves hundreds of megabytes, which the kernel would otherwise flush
    (after 30 s) during whatever step comes next, on its cores."""
    if hasattr(os, "sync"):
        os.sync()


def compile_modules() -> None:
    """Bytecode for kgraph and the benchmarks, wherever they are imported from."""
    import kgraph

    compileall.compile_dir(Path(kgraph.__file__).parent, quiet=1)
    compileall.compile_dir(Path(__file__).parent, maxlevels=0, quiet=1)  # not the vaults


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    quiesce()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def _processes() -> tuple[dict[int, int], dict[int, int]]:
    """(parent, resident KB) of every process (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, IndexError, ValueError):
            continue
    return parents, rss


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree - {root}


def _adopt_orphans() -> None:
    """Become the parent of processes our children leave running (kgraph deletes the old
    site and writes the query snapshot in detached processes), so they are measured too."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(me: int) -> set[int]:
    """Reap adopted processes that finished; the ones still running."""
    parents, _ = _processes()
    tree = _descendants(me, parents)
    for pid in tree:
        if parents.get(pid) == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
    return tree


def run_settled(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of the command, measured like `run` (nothing sampled meanwhile), then
    waits until the detached processes it left (cache writers) have exited too."""
    _adopt_orphans()
    me = os.getpid()
    wall = run(cmd, env)
    while _reap_orphans(me):
        time.sleep(0.05)
    return wall


def run_peak(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of the command and peak memory (MB) of everything it started, summed
    over processes (which counts pages that forked processes share more than once) until
    the last of them, detached ones included, has exited; sampled every 50 ms."""
    _adopt_orphans()
    me = os.getpid()
    quiesce()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = 0.0
    peak = 0
    while True:
        parents, rss = _processes()
        tree = _descendants(me, parents)
        peak = max(peak, sum(rss.get(pid, 0) for pid in tree))
        if proc.poll() is not None and not wall:
            wall = time.perf_counter() - t
        for pid in tree:  # reap adopted processes that finished (never `proc` itself)
            if parents.get(pid) == me and pid != proc.pid:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
        if wall and not (tree - {proc.pid}):
            break
        time.sleep(0.05)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, peak / 1024


def build_cmd(vault: Path, out: Path, jobs: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kgraph",
        "build",
        str(vault),
        "-o",
        str(out),
        "--quiet",
        "--jobs",
        str(jobs),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_latency(
    vault: Path, out: Path, env: dict[str, str], rounds: int = 5
) -> tuple[list[float], list[float]]:
    """Seconds from saving a note to the browser-visible new page, several rounds of a
    prose edit, then several of an edit that adds a link (a full build follows it)."""
    port = free_port()
    cmd = [sys.executable, "-m", "kgraph", "serve", str(vault), "-o", str(out), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "serving" in line:
                break
        # Edits are timed once the first search index is written, as when working in a
        # served vault; during the first minutes at 10,000 notes it competes for the cores.
        manifest = out / "pagefind" / "kgraph-shards.json"
        deadline = time.monotonic() + 600
        while not manifest.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        events: list[float] = []
        got = threading.Event()

        def listen() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", "/_kgraph/events")
            resp = conn.getresponse()
            while True:
                line = resp.fp.readline()
                if not line:
                    return
                if line.startswith(b"event: build"):
                    events.append(time.perf_counter())
                    got.set()

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(1.0)
        notes = sorted(vault.rglob("*.md"))
        note = notes[-1]
        slug = None
        prose: list[float] = []
        links: list[float] = []
        for i in range(2 * rounds):
            got.clear()
            seen = len(events)
            text = note.read_text()
            marker = f"Edit number {i}"
            if i < rounds:
                note.write_text(text + f"\n{marker} for the benchmark.\n")
            else:  # a link to a note it did not link to: every round changes the graph
                target = notes[(i * 997) % len(notes)].stem
                note.write_text(text + f"\n{marker} links [[{target}]].\n")
            saved = time.perf_counter()
            assert got.wait(120), "no reload event"
            event = time.perf_counter()
            if slug is None:  # finding the page among thousands is not part of the latency
                slug = _page_of(out, marker)
            fetch = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/" + slug)
            body = conn.getresponse().read()
            assert marker.encode() in body
            (prose if i < rounds else links).append(event - saved + time.perf_counter() - fetch)
            if i >= rounds:  # the full build's own announcement ends the edit
                deadline = time.monotonic() + 300
                while len(events) < seen + 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
            time.sleep(0.5)
        return prose, links
    finally:
        proc.terminate()
        proc.wait(30)


def _page_of(out: Path, text: str) -> str:
    for page in out.rglob("index.html"):
        if text in page.read_text(errors="replace"):
            return page.relative_to(out).as_posix()
    raise AssertionError("edited page not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs}, python {sys.version.split()[0]}")
    compile_modules()
    for n in args.notes:
        source = vault_for(n)
        work = OUT / f"build-{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        vault = work / "vault"
        shutil.copytree(source, vault)
        (vault / ".complete").unlink(missing_ok=True)
        env = {**os.environ, "KGRAPH_CACHE_DIR": str(work / "cache")}
        floor = run([sys.executable, "-m", "benchmarks.floor", str(vault), str(work / "floor")])
        # Timed without the memory sampler, as the floor is: reading /proc every 50 ms
        # costs a few percent of a core. Then built again from nothing, sampled.
        cold = run_settled(build_cmd(vault, work / "site", args.jobs), env)
        shutil.rmtree(work / "site")
        shutil.rmtree(work / "cache")
        _, peak = run_peak(build_cmd(vault, work / "site", args.jobs), env)
        noop = run(build_cmd(vault, work / "site", args.jobs), env)
        note = sorted(vault.rglob("*.md"))[n // 2]
        note.write_text(note.read_text() + "\nA sentence added for the benchmark.\n")
        edit = run(build_cmd(vault, work / "site", args.jobs), env)
        # The same note gains a link to a note it did not link to: linking, the pages
        # around both ends and the index pages that show links are done again.
        text = note.read_text()
        target = next(title_of(i) for i in range(n - 1, 0, -1) if title_of(i) not in text)
        note.write_text(text + f"\nIt also bears on [[{target}]].\n")
        link_edit = run(build_cmd(vault, work / "site", args.jobs), env)
        # Then a link to a note not written yet: a new stub, with a page of its own, in
        # A-Z and on the wanted page.
        note.write_text(note.read_text() + "\nIt raises [[A question nobody wrote up]].\n")
        stub_edit = run(build_cmd(vault, work / "site", args.jobs), env)
        query = min(
            run(
                [
                    sys.executable,
                    "-m",
                    "kgraph",
                    "query",
                    "--vault",
                    str(vault),
                    "neighbors",
                    title_of(n // 3),
                ],
                env,
            )
            for _ in range(3)
        )
        latency, link_latency = serve_latency(vault, work / "serve-site", env)
        result = {
            "notes": n,
            "floor_s": round(floor, 2),
            "cold_s": round(cold, 2),
            "cold_over_floor": round(cold / floor, 2),
            "noop_s": round(noop, 2),
            "noop_share": round(noop / cold, 3),
            "edit_s": round(edit, 2),
            "edit_share": round(edit / cold, 3),
            "link_edit_s": round(link_edit, 2),
            "link_edit_share": round(link_edit / cold, 3),
            "stub_edit_s": round(stub_edit, 2),
            "stub_edit_share": round(stub_edit / cold, 3),
            "serve_reload_ms": [round(x * 1000) for x in latency],
            "serve_link_reload_ms": [round(x * 1000) for x in link_latency],
            "query_s": round(query, 2),
            "peak_mb": round(peak),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
