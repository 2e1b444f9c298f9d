"""`kgraph serve`: build, serve the output folder, watch the vault, rebuild, live-reload.

The server only ever reads files under the output folder and binds to loopback by
default. Open pages listen on a server-sent-events stream; after each rebuild the
server names the pages whose bytes changed, and only those pages reload. An edit that
changes links (a full build in memory) names the edited note's page as soon as it is
written, before the pages of its old and new targets and the indexes are rendered.
Problems of the last build (file:line) are shown as an overlay until a build without them.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

EVENTS_PATH = "/_kgraph/events"
LIVE_JS_PATH = "/_kgraph/live.js"
LIVE_TAG = f'<script src="{LIVE_JS_PATH}" defer></script>'.encode()

LIVE_JS = r"""
(() => {
  const here = () => {
    let p = decodeURIComponent(location.pathname).replace(/^\/+/, "");
    if (p === "" || p.endsWith("/")) p += "index.html";
    return p;
  };
  const overlay = (problems) => {
    let box = document.getElementById("kgraph-overlay");
    if (!problems.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "kgraph-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:45vh;" +
        "overflow:auto;" +
        "z-index:99999;background:#2b0b0b;color:#ffdede;border:2px solid #e5484d;" +
        "border-radius:8px;padding:1rem;font:13px/1.45 ui-monospace,monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "kgraph: the last build reported\n\n" +
      problems.map(p => `${p.file}:${p.line}: ${p.code} ${p.message}`).join("\n");
  };
  const source = new EventSource("/_kgraph/events");
  source.addEventListener("build", (e) => {
    const data = JSON.parse(e.data);
    if (data.changed.includes(here()) || data.changed.includes("*")) { location.reload(); return; }
    overlay(data.problems);
  });
  source.addEventListener("hello", (e) => overlay(JSON.parse(e.data).problems));
})();
"""


# How many publications a slow SSE client may miss before it is told to reload anyway.
HISTORY = 64
# Seconds a thread holding the GIL keeps it while another waits (sys.setswitchinterval).
SWITCH_INTERVAL = 0.0005


@dataclass
class LiveState:
    """The builds' news, handed to every SSE client.

    A build may publish twice (the edited page first, then the pages a changed link
    touches), so each client is told every page changed since the version it last saw.
    """

    version: int = 0
    changed: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    closing: bool = False
    history: list[tuple[int, list[str]]] = field(default_factory=list)

    def publish(self, changed: Iterable[str], problems: list[dict[str, Any]] | None = None) -> None:
        """Announce changed pages; `problems` None keeps the overlay as it is."""
        with self.cond:
            self.version += 1
            self.changed = sorted(changed)
            if problems is not None:
                self.problems = problems
            self.history.append((self.version, self.changed))
            del self.history[:-HISTORY]
            self.cond.notify_all()

    def changed_since(self, seen: int) -> list[str]:
        """Every page changed after version `seen` (call with `cond` held); `*` when some
        of those versions are no longer remembered."""
        if self.history and self.history[0][0] > seen + 1:
            return ["*"]
        pages: set[str] = set()
        for version, changed in self.history:
            if version > seen:
                pages.update(changed)
        return sorted(pages)

    def close(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()


def _news(state: LiveState, seen: int) -> bool:
    return state.version != seen or state.closing


def make_handler(out_dir: Path, state: LiveState) -> type[SimpleHTTPRequestHandler]:
    root = out_dir.resolve()

    class Handler(SimpleHTTPRequestHandler):
        server_version = "kgraph"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a request log per reload would drown the build output

        def _file_for(self, url_path: str) -> Path | None:
            rel = unquote(urlsplit(url_path).path).lstrip("/")
            try:
                candidate = (root / rel).resolve()
                # Anything that resolves outside the output folder does not exist.
                if candidate != root and not candidate.is_relative_to(root):
                    return None
                if candidate.is_dir():
                    candidate = candidate / "index.html"
                return candidate if candidate.is_file() else None
            except (OSError, ValueError):  # a NUL byte, a name too long: no such file
                return None

        def _not_found(self) -> None:
            page = root / "404.html"
            try:
                body = page.read_bytes()
            except OSError:
                body = b"<h1>404 Not Found</h1>"
            self._send(self._inject(body), "text/html; charset=utf-8", HTTPStatus.NOT_FOUND)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == EVENTS_PATH:
                self._events()
                return
            if path == LIVE_JS_PATH:
                self._send(LIVE_JS.encode(), "text/javascript; charset=utf-8")
                return
            target = self._file_for(self.path)
            if target is None:
                self._not_found()
                return
            if target.name == "index.html" and not path.endswith(("/", ".html")):
                # Pretty URLs: relative links inside the page need the trailing slash.
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", path + "/")
                self.end_headers()
                return
            try:
                body = target.read_bytes()
            except OSError:  # gone since it was found: a rebuild replaced it
                self._not_found()
                return
            ctype = self.guess_type(str(target))
            if target.suffix == ".html":
                body = self._inject(body)
                ctype = "text/html; charset=utf-8"
            self._send(body, ctype)

        def do_HEAD(self) -> None:
            target = self._file_for(self.path)
            self.send_response(HTTPStatus.OK if target else HTTPStatus.NOT_FOUND)
            self.end_headers()

        def _inject(self, body: bytes) -> bytes:
            at = body.rfind(b"</body>")
            return body[:at] + LIVE_TAG + body[at:] if at >= 0 else body + LIVE_TAG

        def _send(self, body: bytes, ctype: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with state.cond:
                seen = state.version
                hello = json.dumps({"problems": state.problems})
            try:
                self.wfile.write(f"event: hello\ndata: {hello}\n\n".encode())
                self.wfile.flush()
                while True:
                    with state.cond:
                        state.cond.wait_for(partial(_news, state, seen), 15)
                        if state.closing:
                            return
                        if state.version == seen:
                            message = ": keep-alive\n\n"
                        else:
                            changed = state.changed_since(seen)
                            seen = state.version
                            data = json.dumps({"changed": changed, "problems": state.problems})
                            message = f"event: build\ndata: {data}\n\n"
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


class LiveServer:
    """An HTTP server in a thread; `publish` tells open pages what changed."""

    def __init__(self, out_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.state = LiveState()
        self.httpd = ThreadingHTTPServer((host, port), make_handler(out_dir, self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.close()
        if self.thread.is_alive():  # shutdown() waits for a loop that was never started
            self.httpd.shutdown()
        self.httpd.server_close()


def watch_loop(
    paths: list[Path],
    on_change: Callable[[set[Path]], None],
    stop: threading.Event,
    ignore: Callable[[Path], bool],
    ready: threading.Event,
) -> None:
    """Call `on_change` with the changed files, batching bursts of saves.

    `ready` is set once the watcher is in place (its first timeout tick), so no save
    made after that can be missed.
    """
    from watchfiles import watch

    for changes in watch(
        *paths, stop_event=stop, step=20, debounce=400, rust_timeout=200, yield_on_timeout=True
    ):
        ready.set()
        changed = {Path(p) for _, p in changes if not ignore(Path(p))}
        if changed:
            on_change(changed)


def serve(
    vault: Path,
    out: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    execute: bool = True,
    jobs: int | None = None,
) -> int:
    """Run until Ctrl-C: build once, then rebuild on every change and notify the browser."""
    from kgraph.build import Builder, SearchIndexer
    from kgraph.lock import BuildLocked, CacheUnusable, build_lock
    from kgraph.publish import NotASite, check_output

    # Requests and the SSE stream are served by threads while a rebuild holds the GIL;
    # a waiting thread gets it after this interval (5 ms by default), once per step of a
    # request. Builds hand it over rarely, so they barely notice.
    sys.setswitchinterval(SWITCH_INTERVAL)
    builder = Builder.for_vault(vault, out, execute=execute, jobs=jobs)
    held = contextlib.ExitStack()  # the cache's build lock, for as long as it serves
    try:
        check_output(builder.config.out)  # as `kgraph build` does, before any work
        held.enter_context(build_lock(builder.config.cache_dir, "kgraph serve"))
    except (NotASite, CacheUnusable, BuildLocked) as exc:
        print(f"kgraph: error: {exc}", file=sys.stderr)
        builder.close()
        return 1
    builder.indexer = SearchIndexer(builder.search_dir, builder.config.out)
    builder.fast_edits = True
    out_dir = builder.config.out.resolve()
    cache_dir = builder.config.cache_dir.resolve()

    def ignored(path: Path) -> bool:
        p = path.resolve()
        return p.is_relative_to(out_dir) or p.is_relative_to(cache_dir) or "__pycache__" in p.parts

    lock = threading.Lock()  # one build at a time: the first one and the watcher's
    try:  # the port is taken before the first build, which may take a while
        server = LiveServer(builder.config.out, host, port)
    except OSError as exc:
        print(
            f"kgraph: error: cannot serve on {host}:{port}: {exc.strerror or exc} "
            "(choose another with --port)",
            file=sys.stderr,
        )
        builder.close()
        held.close()
        return 1

    def rebuild(changed: set[Path]) -> None:
        t = time.perf_counter()
        with lock:
            result = builder.build(changed)
        server.state.publish(result.changed_pages, result.overlay())
        took = (time.perf_counter() - t) * 1000
        print(
            f"kgraph: rebuilt in {took:.0f} ms, {len(result.changed_pages)} pages changed",
            flush=True,
        )

    stop = threading.Event()
    ready = threading.Event()
    watcher = threading.Thread(
        target=watch_loop,
        args=(builder.watch_paths(), rebuild, stop, ignored, ready),
        daemon=True,
    )
    watcher.start()
    try:
        ready.wait(10)
        with lock:
            first = builder.build()
        server.state.publish([], first.overlay())
        builder.early = server.state.publish  # the edited page, ahead of the rest
        server.start()
        print(f"kgraph: serving {builder.config.out} at {server.url} (Ctrl-C to stop)", flush=True)
        while watcher.is_alive():
            watcher.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.stop()
        builder.close()  # writes the caches: still under the lock
        held.close()
        print("kgraph: stopped", flush=True)
    return 0
