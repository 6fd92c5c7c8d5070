"""What the browser tests share: Debian's chromium through Playwright, a watcher that collects
everything that goes wrong on a page, and a local site on an origin of its own (a customer's
page embedding the tracker)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Response, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chrome_ua(version: int) -> str:
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{version}.0.0.0 Safari/537.36"
    )


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Debian's chromium; missing, it fails the test under CI and skips it elsewhere."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (`make system-deps`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def artifacts_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$OPENPANEL_TEST_ARTIFACTS, or a pytest temp dir: where screenshots go."""
    configured = os.environ.get("OPENPANEL_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot `dashboard-<name>.png` in `folder` (and that it holds a page)."""
    path = folder / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000, name


@dataclass
class Watcher:
    """Console errors, page errors, failed requests and error responses of the pages it
    watches, and every dialog they opened (dismissed). A request of a `cut_short` type aborted
    because the page was left (a live stream, a widget still loading) is no failure."""

    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    cut_short: frozenset[str] = frozenset({"eventsource", "xhr"})

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("dialog", self._dialog)
        return page

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _failed(self, request: Request) -> None:
        if request.resource_type in self.cut_short and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


class LocalSite:
    """An HTTP server on 127.0.0.1 with an origin of its own; `respond(path)` gives each
    answer's (content type, body). Serving from construction until `close()` (or `with`)."""

    def __init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                content_type, body = site.respond(self.path.split("?")[0])
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, path: str) -> tuple[str, bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)

    def __enter__(self) -> LocalSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CustomerSite(LocalSite):
    """A customer's site: every path serves `page` with `snippet` pasted into its head."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.snippet = ""
        super().__init__()

    def respond(self, path: str) -> tuple[str, bytes]:
        return "text/html; charset=utf-8", self.page.format(snippet=self.snippet).encode()
