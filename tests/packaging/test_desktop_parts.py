"""The desktop app's pieces that need no window: start page choice, title, pages, signals,
the import hook, local mode and the command's argument checks."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli import cli
from appliance.cli_desktop import LOCAL_MODE_SETTINGS, desktop_settings, local_mode_overrides
from appliance.desktop import (
    SignalCloser,
    dashboard_path,
    gui_backend,
    open_event_file,
    window_title,
)
from appliance.desktop_pages import message_page, welcome_page
from appliance.settings import REGISTRY, load_settings
from tests.support.server import LiveServer


class _Html(BaseHTTPRequestHandler):
    body = b"<!doctype html><title>dash</title>"
    content_type = "text/html; charset=utf-8"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.body
        self.send_response(200)
        self.send_header("content-type", self.content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Json(_Html):
    body = b'{"status": "ok"}'
    content_type = "application/json"


@pytest.fixture
def json_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Json)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def html_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_dashboard_is_opened_when_root_serves_html(html_site: str) -> None:
    assert dashboard_path(html_site) == "/"


def test_the_served_dashboard_is_opened(live_server: LiveServer) -> None:
    assert dashboard_path(live_server.url) == "/"


def test_the_welcome_page_is_used_while_root_answers_json(json_site: str) -> None:
    assert dashboard_path(json_site) is None


def test_no_server_means_the_welcome_page() -> None:
    assert dashboard_path("http://127.0.0.1:9", timeout=1) is None


def test_the_title_shows_the_ingest_port(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": str(tmp_path), "port": 3007}, environ={})
    assert window_title(settings) == "OpenPanel — ingest at http://127.0.0.1:3007"


def test_pages_escape_what_they_show() -> None:
    page = welcome_page("http://127.0.0.1:3000", Path("/tmp/<script>x</script>"))
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert 'id="ingest-url">Ingest API: http://127.0.0.1:3000<' in page
    assert "&lt;b&gt;" in message_page("<b>bad</b>")


def test_qt_is_the_linux_backend_unless_asked_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYWEBVIEW_GUI", raising=False)
    assert gui_backend("gtk") == "gtk"
    if os.uname().sysname == "Linux":
        assert gui_backend(None) == "qt"
    monkeypatch.setenv("PYWEBVIEW_GUI", "gtk")
    assert gui_backend(None) is None


def test_sigterm_closes_the_window_from_a_thread() -> None:
    closed = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    closer = SignalCloser(closed.set)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert closed.wait(5)
    finally:
        closer.close()
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_event_file_that_cannot_be_imported_becomes_a_message(tmp_path: Path) -> None:
    # No server on that port and no local-admin token in that folder: a message, not a crash
    # of the menu's thread.
    message = open_event_file(tmp_path / "events.ndjson", "http://127.0.0.1:9", tmp_path)
    assert "events.ndjson" in message
    assert message.startswith(("Importing event files is not available", "Could not open"))


def test_local_mode_is_switched_on_only_where_the_registry_has_it() -> None:
    expected = {n: True for n in LOCAL_MODE_SETTINGS if n in REGISTRY}
    assert local_mode_overrides() == expected
    if "dashboard_local_mode" in REGISTRY:  # the dashboard's no-login switch for loopback
        assert desktop_settings(None, None).dashboard_local_mode is True


def test_the_start_path_must_be_absolute(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["desktop", "--data-dir", str(tmp_path), "--path", "x"])
    assert result.exit_code == 2
    assert "must start with /" in result.output
