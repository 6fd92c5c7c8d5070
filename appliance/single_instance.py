"""One desktop app per data folder: an OS file lock, and a tiny local control channel through
which a second launch asks the running one to bring its window to the front.

chDB lets one process open a data directory; without this a second double-click would fail on
chDB's lock with a traceback. The lock file is `<data_dir>/desktop.lock` (released by the OS when
the process dies, so a crash never leaves a stale lock); `<data_dir>/desktop.json` tells the
second launch where the running one listens (control port, dashboard URL, a random token).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

LOCK_NAME = "desktop.lock"
INFO_NAME = "desktop.json"
FOCUS = "focus"


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """What the running desktop app publishes for a second launch."""

    pid: int
    url: str
    control_port: int
    token: str


class InstanceLock:
    """An exclusive, non-blocking OS lock on `<data_dir>/desktop.lock`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another process holds it (never blocks)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    @property
    def held(self) -> bool:
        return self._file is not None

    def publish(self, info: InstanceInfo) -> None:
        """Write desktop.json atomically (owner-only permissions: it carries the token)."""
        target = self.data_dir / INFO_NAME
        tmp = target.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(info), out)
        os.replace(tmp, target)

    def release(self) -> None:
        """Remove desktop.json and drop the lock (idempotent)."""
        if self._file is None:
            return
        (self.data_dir / INFO_NAME).unlink(missing_ok=True)
        try:
            _unlock(self._file)
        finally:
            self._file.close()
            self._file = None


def read_info(data_dir: Path) -> InstanceInfo | None:
    """The running instance's published info, or None when absent or unreadable."""
    try:
        raw = json.loads((data_dir / INFO_NAME).read_text())
        return InstanceInfo(
            pid=int(raw["pid"]),
            url=str(raw["url"]),
            control_port=int(raw["control_port"]),
            token=str(raw["token"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def new_token() -> str:
    return secrets.token_urlsafe(16)


class ControlServer:
    """A loopback TCP listener answering `focus <token>` lines by calling `on_focus` (thread)."""

    def __init__(self, token: str, on_focus: Callable[[], None]) -> None:
        self.token = token
        self.on_focus = on_focus
        self._server = _LineServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="desktop-control", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening and join the thread (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def answer(self, line: str) -> str:
        """The reply to one request line; unknown or unauthenticated lines are refused."""
        verb, _, token = line.strip().partition(" ")
        if verb != FOCUS or not secrets.compare_digest(token, self.token):
            return "refused"
        try:
            self.on_focus()
        except Exception:  # a failing focus must not kill the control thread
            log.exception("desktop: focusing the window failed")
            return "error"
        return "ok"


def ask_to_focus(info: InstanceInfo, timeout: float = 3.0) -> bool:
    """Ask the running instance to raise its window; True when it answered `ok`."""
    try:
        with socket.create_connection(("127.0.0.1", info.control_port), timeout=timeout) as conn:
            conn.sendall(f"{FOCUS} {info.token}\n".encode())
            reply = conn.makefile("rb").readline(64)
    except OSError:
        return False
    return reply.strip() == b"ok"


class _LineServer(socketserver.TCPServer):
    allow_reuse_address = False
    daemon_threads = True


def _handler_for(control: ControlServer) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        timeout = 5

        def handle(self) -> None:
            try:
                line = self.rfile.readline(256).decode("utf-8", "replace")
            except OSError:
                return
            self.wfile.write((control.answer(line) + "\n").encode())

    return Handler


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
