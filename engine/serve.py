"""`friction serve`: the report from a local web server, drawn again whenever a policy,
manifest or catalog file changes, so a policy owner edits YAML in one window and watches
the blueprint change in the other. Load problems and lint findings are shown on the page
(file:line, rule id) instead of a blank screen.

Only 127.0.0.1 is ever bound: the page shows a policy set's contents and is meant for the
person at this machine. Files are watched with watchfiles; pages reload themselves by
asking /version once a second (a progressive enhancement: without script, reload by hand)."""
from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable

import watchfiles

from .errors import FrictionError, InputError, Problem
from .lint import lint
from .page import environment

__all__ = ["LiveReport", "make_server", "run", "HOST"]

HOST = "127.0.0.1"
WATCHED_SUFFIXES = (".yaml", ".yml", ".jsonl")
GENERATION_TOKEN = "__FRICTION_GENERATION__"   # in templates/live.html.j2


class LiveReport:
    """The page, drawn on first request after a change. `draw` returns the report page;
    a load error becomes a page of its problems."""

    def __init__(self, draw: Callable[[], str], policy_sets: Iterable[str], catalogs: Iterable[str] = (),
                 version: str = ""):
        self._draw = draw
        self.policy_sets = [str(p) for p in policy_sets]
        self.catalogs = [str(c) for c in catalogs]
        self.generation = 0
        self._html: str | None = None
        self._lock = threading.Lock()
        self._version = version

    @property
    def watched(self) -> list[str]:
        """Folders to watch: the policy sets, and the folders holding the catalogs (editors
        replace a file by renaming a new one over it)."""
        dirs = self.policy_sets + [str(Path(c).resolve().parent) for c in self.catalogs]
        return sorted({str(Path(d).resolve()) for d in dirs if Path(d).exists()})

    def changed(self) -> None:
        with self._lock:
            self.generation += 1
            self._html = None

    def page(self) -> tuple[str, bool]:
        """(HTML, whether it is the report rather than a page of problems)."""
        with self._lock:
            if self._html is None:
                html, self._ok = self._render()
                self._html = html.replace(GENERATION_TOKEN, str(self.generation), 1)
            return self._html, self._ok

    def _render(self) -> tuple[str, bool]:
        findings = []
        for ps in self.policy_sets:
            try:
                findings += [f for f in lint(ps, self.catalogs) if f.level in ("error", "warning")]
            except FrictionError:
                pass   # the load below reports it
        try:
            html = self._draw()
        except InputError as e:
            return self._problems(e.problems, findings), False
        if findings:   # lint findings at the top of the report
            html = html.replace("<main>", "<main>" + self._lint_panel(findings), 1)
        return html, True

    def _problems(self, problems: list[Problem], findings: list) -> str:
        return environment().get_template("problems.html.j2").render(
            problems=problems, findings=findings, version=self._version, live=True)

    def _lint_panel(self, findings: list) -> str:
        return environment().get_template("problems.html.j2").module.lint_panel(findings)

    def watch(self, stop: threading.Event) -> None:
        # Not recursive: a catalog in the working folder must not mean watching all of it.
        for _ in watchfiles.watch(*self.watched, stop_event=stop, debounce=150, step=50, recursive=False,
                                  watch_filter=lambda _, path: path.endswith(WATCHED_SUFFIXES),
                                  raise_interrupt=False):
            self.changed()


def make_server(live: LiveReport, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path in ("/", "/index.html"):
                html, _ = live.page()
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", html.encode())
            elif self.path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, "text/plain", b"")
            elif self.path == "/version":
                self._send(HTTPStatus.OK, "text/plain", str(live.generation).encode())
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

        def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:   # the library never prints
            pass

    return ThreadingHTTPServer((HOST, port), Handler)


def run(server: ThreadingHTTPServer, live: LiveReport, stop_after: float | None = None) -> None:
    """Serve until interrupted, or for `stop_after` seconds. Watches the files meanwhile."""
    stop = threading.Event()
    watcher = threading.Thread(target=live.watch, args=(stop,), daemon=True)
    watcher.start()
    timer = None
    if stop_after is not None:
        timer = threading.Timer(stop_after, server.shutdown)
        timer.daemon = True
        timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        if timer is not None:
            timer.cancel()
        server.server_close()
        watcher.join(timeout=2)
