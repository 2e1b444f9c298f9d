"""`kgraph serve` driven for real: a server process, HTTP requests and the SSE stream."""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgraph.serve import HISTORY, LiveState

ROOT = Path(__file__).parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, vault: Path, out: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KGRAPH_CACHE_DIR": str(out.parent / "c")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kgraph",
                "serve",
                str(vault),
                "-o",
                str(out),
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.wait_line("serving", 60)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_line(self, text: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    self.pump.join(5)  # the process ended: what it printed is all there is
                    if self.lines.empty():
                        raise AssertionError(f"server exited without printing {text!r}") from None
                continue
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r}")

    def log(self) -> str:
        lines = []
        while not self.lines.empty():
            lines.append(self.lines.get())
        return "".join(lines)

    def get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        conn.close()
        return resp.status, body

    def events(self) -> queue.Queue[tuple[str, dict]]:
        """A background SSE reader; each item is (event name, data)."""
        out: queue.Queue[tuple[str, dict]] = queue.Queue()
        ready = threading.Event()

        def read() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request("GET", "/_kgraph/events")
            resp = conn.getresponse()
            assert resp.getheader("Content-Type") == "text/event-stream"
            event = ""
            while True:
                line = resp.fp.readline().decode()
                if not line:
                    return
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    out.put((event, json.loads(line.split(":", 1)[1])))
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(10), "no hello event"
        return out

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "One.md").write_text("---\ntitle: One\n---\nOne links [[Two]].\n")
    (vault / "Two.md").write_text("---\ntitle: Two\n---\nTwo says hello.\n")
    (vault / "Three.md").write_text("---\ntitle: Three\n---\nThree stands alone.\n")
    server = Server(vault, tmp_path / "site")
    try:
        yield server, vault
    finally:
        server.stop()


def next_build(events: queue.Queue[tuple[str, dict]], timeout: float = 30) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        name, data = events.get(timeout=max(0.1, end - time.monotonic()))
        if name == "build":
            return data
    raise AssertionError("no build event")


def test_edit_shows_new_content_and_reloads_only_that_page(served: tuple[Server, Path]) -> None:
    server, vault = served
    status, body = server.get("/two/")
    assert status == 200 and "Two says hello" in body
    assert '<script src="/_kgraph/live.js"' in body  # live reload is injected
    events = server.events()
    (vault / "Two.md").write_text("---\ntitle: Two\n---\nTwo says goodbye.\n")
    data = next_build(events)
    assert "two/index.html" in data["changed"]
    assert "three/index.html" not in data["changed"]
    assert data["problems"] == []
    status, body = server.get("/two/")
    assert "Two says goodbye" in body


def test_problems_show_as_overlay_and_clear_when_fixed(served: tuple[Server, Path]) -> None:
    server, vault = served
    events = server.events()
    (vault / "Three.md").write_text(
        "---\ntitle: Three\n---\n```{python}\nraise ValueError('broken model')\n```\n"
    )
    try:
        data = next_build(events, timeout=120)
    except queue.Empty:
        raise AssertionError("no build event; server said:\n" + server.log()) from None
    problems = [p for p in data["problems"] if p["code"] == "cell-error"]
    assert problems and problems[0]["file"] == "Three.md" and problems[0]["line"] == 4
    assert server.get("/three/")[0] == 200  # the server keeps running
    (vault / "Three.md").write_text("---\ntitle: Three\n---\nThree is fixed.\n")
    data = next_build(events, timeout=60)
    assert data["problems"] == []


def test_only_output_files_are_served(served: tuple[Server, Path]) -> None:
    server, _ = served
    for path in (
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc/passwd",
        "/one/../../vault/One.md",
    ):
        status, body = server.get(path)
        assert status == 404, path
        assert "root:" not in body
    missing = server.get("/no-such-page/")
    assert missing[0] == 404
    # Paths no file system takes are missing files too, not a dropped connection.
    for path in ("/%00", "/one%00/index.html", "/" + "a" * 5000, "/a" * 3000):
        assert server.get(path) == missing, path[:20]
    status, _ = server.get("/_kgraph/live.js")
    assert status == 200


def test_binds_loopback_and_stops_cleanly_on_ctrl_c(served: tuple[Server, Path]) -> None:
    server, _ = served
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", server.port)) == 0
    assert server.stop() == 0
    server.wait_line("stopped", 5)


def test_a_client_hears_of_every_page_changed_since_it_last_looked() -> None:
    state = LiveState()
    state.publish(["a/index.html"], [])
    seen = state.version
    state.publish(["b/index.html"])  # the edited page, ahead of the rest of its build
    state.publish(["c/index.html", "b/index.html"], [{"code": "x"}])
    with state.cond:
        assert state.changed_since(seen) == ["b/index.html", "c/index.html"]
        assert state.changed_since(state.version) == []
    assert state.problems == [{"code": "x"}]
    state.publish(["d/index.html"])  # None keeps the overlay's problems
    assert state.problems == [{"code": "x"}]
    for i in range(HISTORY):
        state.publish([f"p{i}/index.html"])
    with state.cond:
        assert state.changed_since(seen) == ["*"]  # too far behind: reload whatever it is
        assert state.changed_since(state.version - 1) == [f"p{HISTORY - 1}/index.html"]


def test_a_link_edit_reloads_the_edited_page_and_the_page_it_now_links(
    served: tuple[Server, Path],
) -> None:
    server, vault = served
    events = server.events()
    (vault / "Two.md").write_text("---\ntitle: Two\n---\nTwo now links [[Three]].\n")
    # The edited page is announced first, the new target with the rest of the build; a
    # client that wakes late hears both at once (the order is tested on the builder).
    heard = [next_build(events)]
    assert "two/index.html" in heard[0]["changed"]
    status, body = server.get("/two/")
    assert status == 200 and 'href="../three/index.html"' in body
    while not any("three/index.html" in e["changed"] for e in heard):
        heard.append(next_build(events))
    assert sum("two/index.html" in e["changed"] for e in heard) == 1
    assert "Two" in server.get("/three/")[1]


def test_serve_stops_with_a_message_when_it_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kgraph.serve import serve

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "One.md").write_text("# One\n")
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        assert serve(vault, tmp_path / "site", port=port) == 1
        assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err
    finally:
        taken.close()
    not_a_folder = tmp_path / "site.txt"
    not_a_folder.write_text("mine")
    assert serve(vault, not_a_folder, port=free_port()) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert not_a_folder.read_text() == "mine"
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(not_a_folder))
    assert serve(vault, tmp_path / "site", port=free_port()) == 1
    assert "as the cache folder" in capsys.readouterr().err


def test_a_build_on_the_cache_serve_uses_waits_for_serve_to_stop(
    served: tuple[Server, Path], tmp_path: Path
) -> None:
    """serve holds the cache's build lock: a `kgraph build` beside it would write the same
    caches and site from another process."""
    server, vault = served
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KGRAPH_CACHE_DIR": str(tmp_path / "c")}
    build = [sys.executable, "-m", "kgraph", "build", str(vault), "-o", str(tmp_path / "site")]
    done = subprocess.run(build, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert "another kgraph build is running" in done.stderr and "kgraph serve" in done.stderr
    assert server.stop() == 0
    done = subprocess.run(build, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
