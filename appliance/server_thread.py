"""The appliance server on a background thread, for hosts that own the main thread.

pywebview (and every native GUI toolkit) must run on the main thread, so the desktop app runs
uvicorn on one background thread with its own event loop. The listening socket is bound here,
before the thread starts, so the port shown to the user is the port that is served (no race
between "find a free port" and "bind it"). Stopping goes through uvicorn's own graceful path:
the lifespan shutdown stops intake, drains the spool into chDB and closes chDB (appliance/app.py).
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
import time

import uvicorn

from appliance.errors import AppError, ConfigError
from appliance.server import server_config
from appliance.settings import Settings

log = logging.getLogger(__name__)

PORT_SPAN = 50  # ports tried after the preferred one before giving up


def bind_port(host: str, preferred: int, span: int = PORT_SPAN) -> socket.socket:
    """A listening socket on `preferred`, or the next free port above it; raises ConfigError."""
    last: OSError | None = None
    for port in range(preferred, min(preferred + span, 65535) + 1):
        try:
            return _listen(host, port)
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from None
            last = exc
    raise ConfigError(f"no free port on {host} in {preferred}..{preferred + span}: {last}")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            # Same as uvicorn: restart right after a stop without waiting out TIME_WAIT (Linux
            # still refuses a port another socket listens on).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """uvicorn serving the appliance on a daemon-less background thread."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        # Builds the app now, on the caller's thread: preflight errors (data dir in use, bad
        # GeoIP file) surface here as ConfigError, before any window exists.
        self.server = uvicorn.Server(server_config(settings))
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="appliance-server")

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self, timeout: float = 180.0) -> None:
        """Start serving; return once the lifespan is up. Raises AppError if start-up fails."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise AppError(f"the appliance failed to start: {self.error or 'see the log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise AppError(f"the appliance did not start within {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 120.0) -> bool:
        """Graceful stop (connections closed, spool drained, chDB closed); True when finished."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.sock.close()
        finished = not self._thread.is_alive()
        if not finished:
            log.error("desktop: the server did not stop within %.0f s", timeout)
        return finished

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # SystemExit from a failed lifespan, or a crash
            self.error = exc
            log.error("desktop: the server stopped: %r", exc)
