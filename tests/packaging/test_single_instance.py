"""One desktop app per data folder: the OS lock, the published info and the focus channel;
and the port choice (the preferred one, else the next free one)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.server_thread import bind_port
from appliance.single_instance import (
    ControlServer,
    InstanceInfo,
    InstanceLock,
    ask_to_focus,
    new_token,
    read_info,
)


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    assert not second.acquire()  # flock: a second open file description is refused
    first.release()
    assert second.acquire()
    second.release()


def test_published_info_round_trips_and_disappears_on_release(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    info = InstanceInfo(pid=42, url="http://127.0.0.1:3001", control_port=5555, token="t0k")
    lock.publish(info)
    assert read_info(tmp_path) == info
    assert (tmp_path / "desktop.json").stat().st_mode & 0o077 == 0  # the token is private
    lock.release()
    assert read_info(tmp_path) is None


@pytest.mark.parametrize("content", ["", "{", json.dumps({"pid": 1}), json.dumps([1, 2])])
def test_unreadable_info_is_none(tmp_path: Path, content: str) -> None:
    (tmp_path / "desktop.json").write_text(content)
    assert read_info(tmp_path) is None


def test_focus_requests_need_the_token() -> None:
    calls: list[str] = []
    token = new_token()
    control = ControlServer(token, on_focus=lambda: calls.append("focus")).start()
    try:
        good = InstanceInfo(1, "http://x", control.port, token)
        bad = InstanceInfo(1, "http://x", control.port, token + "x")
        assert ask_to_focus(good)
        assert not ask_to_focus(bad)
        assert calls == ["focus"]
        assert control.answer("shutdown " + token) == "refused"
    finally:
        control.close()
    assert not ask_to_focus(good, timeout=1)  # nobody listens any more


def test_a_failing_focus_answers_error_and_keeps_serving() -> None:
    def boom() -> None:
        raise RuntimeError("no window")

    control = ControlServer("t", on_focus=boom).start()
    try:
        assert control.answer("focus t") == "error"
        assert not ask_to_focus(InstanceInfo(1, "", control.port, "t"))
        assert control.answer("focus wrong") == "refused"
    finally:
        control.close()


def test_bind_port_takes_the_preferred_port_when_free() -> None:
    probe = bind_port("127.0.0.1", 0)  # any free port, then release it
    port = probe.getsockname()[1]
    probe.close()
    sock = bind_port("127.0.0.1", port)
    try:
        assert sock.getsockname()[1] == port
    finally:
        sock.close()


def test_bind_port_moves_to_the_next_free_port_when_busy() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        sock = bind_port("127.0.0.1", port)
        try:
            assert port < sock.getsockname()[1] <= port + 50
        finally:
            sock.close()
    finally:
        busy.close()


def test_bind_port_gives_up_with_a_clear_error() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(ConfigError, match="no free port"):
            bind_port("127.0.0.1", busy.getsockname()[1], span=0)
    finally:
        busy.close()
