"""Playwright helpers of the report, XSS and end-to-end browser tests: Debian's chromium, a
watcher that collects every console error, page error, failed request and error response, a
customer site on its own origin, and screenshots (test artifacts, and the docs' images when
OPENPANEL_DOCS_IMG names a folder)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Response, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
# A request cut short because the page was left (a live stream, a poll in flight) is no error.
_CUT_SHORT = {"eventsource", "xhr", "fetch"}


def chrome_ua(version: int) -> str:
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{version}.0.0.0 Safari/537.36"
    )


@dataclass
class Watcher:
    """Everything that went wrong on the pages it watches, and every dialog they opened."""

    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

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
        if request.resource_type in _CUT_SHORT and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
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


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page, str], None]:
    """`shots(page, name)` saves the viewport as a PNG artifact (and a docs image)."""
    configured = os.environ.get("OPENPANEL_TEST_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    docs = os.environ.get("OPENPANEL_DOCS_IMG")

    def shoot(page: Page, name: str) -> None:
        path = folder / f"reports-{name}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 5000, name
        if docs:
            page.screenshot(path=str(Path(docs) / f"{name}.png"))

    return shoot


class CustomerSite:
    """A site on its own origin: every path serves a page whose head holds `snippet` and whose
    body has buttons the web SDK tracks by their `data-track` attribute."""

    PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Chai shop</title><link rel="icon" href="data:,">
{snippet}
</head><body><h1>Chai shop</h1>
<button id="start" data-track="signup_started" data-plan="pro">Start signup</button>
<button id="done" data-track="signup_done">Finish signup</button>
</body></html>
"""

    def __init__(self) -> None:
        self.snippet = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.PAGE.format(snippet=site.snippet).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
