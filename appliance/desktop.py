"""The desktop app: one native window (pywebview) on the dashboard served by this very process.

Thread ownership, decided here once:
- the **main thread** belongs to the GUI toolkit (pywebview requires it; Qt on Linux);
- the **appliance server** (uvicorn + the lifespan's pipeline, spool, chDB) runs on one
  background thread (appliance/server_thread.py), on a port bound before the window opens;
- **SIGINT/SIGTERM** wake a small thread (through `signal.set_wakeup_fd`, because Qt's C++
  event loop does not run Python signal handlers) that closes the window;
- the **control thread** (appliance/single_instance.py) raises the window when a second launch
  asks, instead of that launch failing on chDB's lock.
Closing the window returns from `webview.start()`; the server is then stopped through its
graceful path (intake stopped, spool drained into chDB, chDB closed).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import util as import_util
from pathlib import Path
from typing import Any

import httpx

from appliance.desktop_pages import message_page, welcome_page
from appliance.errors import AppError
from appliance.server_thread import ServerThread, bind_port
from appliance.settings import Settings
from appliance.single_instance import (
    ControlServer,
    InstanceInfo,
    InstanceLock,
    ask_to_focus,
    new_token,
    read_info,
)

log = logging.getLogger(__name__)

APP_NAME = "OpenPanel"
EVENT_FILE_TYPES = (
    "Event files (*.ndjson *.jsonl *.json *.csv *.parquet *.gz)",
    "All files (*.*)",
)


@dataclass(frozen=True, slots=True)
class DesktopOptions:
    """How the window is opened; `start_path` None means "the dashboard if it exists"."""

    start_path: str | None = None
    width: int = 1280
    height: int = 860
    gui: str | None = None


def run_desktop(settings: Settings, options: DesktopOptions | None = None) -> int:
    """Run the desktop app until its window closes; returns the process exit code (0 = clean)."""
    options = options or DesktopOptions()
    lock = InstanceLock(settings.data_dir)
    if not lock.acquire():
        return _second_launch(settings.data_dir)
    try:
        return _run_locked(settings, options, lock)
    finally:
        lock.release()


def _second_launch(data_dir: Path) -> int:
    """Another desktop app owns this data folder: raise its window and say so."""
    info = read_info(data_dir)
    if info is not None and ask_to_focus(info):
        _tell(f"{APP_NAME} is already running at {info.url}; its window was brought to the front.")
        return 0
    _tell(
        f"{APP_NAME} is already running on {data_dir} (it may still be starting or stopping); "
        "try again in a few seconds."
    )
    return 1


def _run_locked(settings: Settings, options: DesktopOptions, lock: InstanceLock) -> int:
    prepare_gui_environment()
    # Typed as Any on purpose: the GUI extra is optional, and mypy must judge this module the
    # same with or without it installed.
    webview: Any = importlib.import_module("webview")
    try:
        server = _bound_server(settings)
    except AppError as exc:
        return _show_error(webview, options, str(exc))
    settings = server.settings
    # The pipeline thread shares the GIL with the GUI; see appliance/server.py.
    sys.setswitchinterval(0.001)
    try:
        server.start()
    except AppError as exc:
        server.stop()
        return _show_error(webview, options, str(exc))
    _tell(f"{APP_NAME} desktop: ingest API on {settings.base_url} (data: {settings.data_dir})")
    window = _open_window(webview, settings, options)
    token = new_token()
    control = ControlServer(token, on_focus=lambda: _bring_to_front(window)).start()
    lock.publish(InstanceInfo(os.getpid(), settings.base_url, control.port, token))
    closer = SignalCloser(window.destroy)
    try:
        webview.start(gui=gui_backend(options.gui), private_mode=True)
    finally:
        closer.close()
        control.close()
        finished = server.stop()
    log.info("desktop: window closed; server stopped %s", "cleanly" if finished else "late")
    return 0 if finished and server.error is None else 1


def _bound_server(settings: Settings) -> ServerThread:
    """The server on the configured port or the next free one (settings carry the real port)."""
    sock = bind_port(settings.host, settings.port)
    try:
        return ServerThread(replace(settings, port=int(sock.getsockname()[1])), sock)
    except BaseException:
        sock.close()
        raise


def _open_window(webview: Any, settings: Settings, options: DesktopOptions) -> Any:
    """Create the main window on the dashboard (or the welcome page) with its menu."""
    title = window_title(settings)
    path = options.start_path or dashboard_path(settings.base_url)
    content: dict[str, Any]
    if path is None:
        content = {"html": welcome_page(settings.base_url, settings.data_dir)}
    else:
        content = {"url": settings.base_url + path}
    holder: list[Any] = []
    window = webview.create_window(
        title,
        width=options.width,
        height=options.height,
        menu=_menu(webview, settings, holder),
        **content,
    )
    holder.append(window)
    window.events.loaded += lambda: log.info("desktop: page loaded: %s", _current_url(window))
    window.events.shown += lambda: log.info("desktop: window shown: %s", title)
    return window


def _menu(webview: Any, settings: Settings, holder: list[Any]) -> list[Any]:
    from webview.menu import Menu, MenuAction, MenuSeparator

    def choose_event_file() -> None:
        window = holder[0]
        picked = window.create_file_dialog(
            webview.FileDialog.OPEN, file_types=EVENT_FILE_TYPES, allow_multiple=False
        )
        if picked:
            notify(window, open_event_file(Path(picked[0]), settings.base_url, settings.data_dir))

    def show_data_folder() -> None:
        message = open_data_folder(settings.data_dir)
        if message:
            notify(holder[0], message)

    def show_ingest_url() -> None:
        notify(holder[0], f"Send events to {settings.base_url} (or {settings.base_url}/api).")

    return [
        Menu(
            "File",
            [
                MenuAction("Open event file…", choose_event_file),
                MenuAction("Open data folder", show_data_folder),
                MenuSeparator(),
                MenuAction("Quit", lambda: holder[0].destroy()),
            ],
        ),
        Menu("Help", [MenuAction("Ingest URL", show_ingest_url)]),
    ]


def window_title(settings: Settings) -> str:
    """The window title: the app name and where SDKs send events (the port may not be 3000)."""
    return f"{APP_NAME} — ingest at {settings.base_url}"


def dashboard_path(base_url: str, timeout: float = 5.0) -> str | None:
    """`/` when the server answers it with an HTML page (the dashboard); None otherwise."""
    try:
        reply = httpx.get(
            base_url + "/", headers={"accept": "text/html"}, follow_redirects=True, timeout=timeout
        )
    except httpx.HTTPError:
        return None
    is_html = reply.headers.get("content-type", "").startswith("text/html")
    return "/" if reply.status_code < 400 and is_html else None


def open_event_file(path: Path, base_url: str, data_dir: Path) -> str:
    """Hand an event file to the import module (`appliance.cli_files.open_in_appliance(path,
    base_url, data_dir) -> str`, which talks to this running server over HTTP); return the
    message to show. Never raises: a failure becomes the message."""
    unavailable = f"Importing event files is not available in this version yet ({path.name})."
    if import_util.find_spec("appliance.cli_files") is None:
        return unavailable
    module = importlib.import_module("appliance.cli_files")
    opener: Callable[[Path, str, Path], str] | None = getattr(module, "open_in_appliance", None)
    if opener is None:
        return unavailable
    try:
        return opener(path, base_url, data_dir)
    except (AppError, OSError, httpx.HTTPError) as exc:
        log.warning("desktop: opening %s failed: %s", path, exc)
        return f"Could not open {path.name}: {exc}"


def open_data_folder(folder: Path) -> str | None:
    """Show `folder` in the platform's file manager; a message with the path if that fails."""
    try:
        if sys.platform == "win32":
            os.startfile(folder)  # type: ignore[attr-defined,unused-ignore]
            return None
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        subprocess.Popen(  # noqa: S603 - fixed program, our own path
            [opener, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return f"The data folder is {folder}"
    return None


def notify(window: Any, message: str) -> None:
    """Show a short message in the window (a JavaScript alert: works on every backend)."""
    window.evaluate_js(f"alert({json.dumps(message)})")


def gui_backend(requested: str | None) -> str | None:
    """Qt on Linux (PyQt6 + WebEngine); the platform's own web view elsewhere."""
    if requested:
        return requested
    if os.environ.get("PYWEBVIEW_GUI"):
        return None  # pywebview reads it itself
    return "qt" if sys.platform.startswith("linux") else None


def prepare_gui_environment() -> None:
    """QtWebEngine's Chromium refuses to run as root unless its sandbox is off (containers,
    CI); a normal user keeps the sandbox."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


def _show_error(webview: Any, options: DesktopOptions, message: str) -> int:
    """Tell the user why the app cannot start, in a window (double-click has no terminal)."""
    _tell(f"{APP_NAME} cannot start: {message}")
    webview.create_window(f"{APP_NAME} cannot start", html=message_page(message), height=320)
    webview.start(gui=gui_backend(options.gui), private_mode=True)
    return 1


def _bring_to_front(window: Any) -> None:
    log.info("desktop: a second launch asked for the window")
    window.restore()


def _current_url(window: Any) -> str:
    try:
        return str(window.get_current_url() or "(html)")
    except Exception:
        return "(unknown)"


def _tell(message: str) -> None:
    print(message, flush=True)  # noqa: T201 - the desktop launcher's one status line


class SignalCloser:
    """Calls `on_signal` (from a thread) on SIGINT/SIGTERM while a C++ event loop owns the main
    thread: the C-level handler writes the signal number to a socket this thread reads."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, _ignore) for sig in self.SIGNALS}
        self._on_signal = on_signal
        self._thread = threading.Thread(target=self._watch, name="desktop-signals", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                data = self._read.recv(64)
            except OSError:
                return
            if not data:
                return
            if any(sig in data for sig in self.SIGNALS):
                log.info("desktop: signal received; closing the window")
                with contextlib.suppress(Exception):
                    self._on_signal()

    def close(self) -> None:
        """Restore the previous handlers and stop the thread."""
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._write.close()
        with contextlib.suppress(OSError):
            self._read.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)
        self._read.close()


def _ignore(signum: int, frame: object) -> None:
    """The Python-level handler: the work is done by the wakeup-fd thread."""
