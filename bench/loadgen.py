"""A minimal asyncio HTTP/1.1 load generator for the benches: keep-alive connections, a closed
loop (send as soon as answered) and an open loop (a fixed schedule, latency measured from the
scheduled time). It only ever connects to 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Protocol, cast

HOST = "127.0.0.1"  # the only address the benches ever talk to
clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution


class RequestSource(Protocol):
    def next_raw(self) -> bytes: ...


# -- a minimal keep-alive HTTP/1.1 client --------------------------------------------------------
class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight (no pipelining)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    @classmethod
    async def open(cls, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, HOST, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buffer) < head_end + 4 + length:
            return
        status = int(head[9:12])  # "HTTP/1.1 200 OK"
        del self.buffer[: head_end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    async def request(self, raw: bytes) -> int:
        """Send one request; return its status code."""
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class LoadResult:
    """What one load phase did."""

    seconds: float = 0.0
    sent: int = 0
    ok: int = 0  # 2xx
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds
    server_cpu: float = 0.0  # CPU seconds used by the server process
    client_cpu: float = 0.0  # CPU seconds used by this process

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def failed(self) -> None:
        self.errors += 1
        if self.errors > 100 and self.errors > self.sent:
            raise RuntimeError("the server is not answering; stopping the load")

    def count(self, status: int, latency: float) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.ok += 1
        self.latencies.append(latency)


async def _connections(port: int, count: int) -> list[Connection]:
    return list(await asyncio.gather(*(Connection.open(port) for _ in range(count))))


async def _send(conn: Connection, port: int, raw: bytes) -> tuple[Connection, int]:
    """Send on `conn`, reconnecting once if the server had closed it; status -1 on failure."""
    for attempt in range(2):
        try:
            return conn, await conn.request(raw)
        except ConnectionError:
            conn.close()
            if attempt == 0:
                conn = await Connection.open(port)
    return conn, -1


async def closed_loop(
    port: int, requests: RequestSource, seconds: float, connections: int
) -> LoadResult:
    """Every connection sends its next request as soon as the previous one is answered."""
    conns = await _connections(port, connections)
    result = LoadResult()
    deadline = clock() + seconds

    async def worker(conn: Connection) -> None:
        while clock() < deadline:
            start = clock()
            conn, status = await _send(conn, port, requests.next_raw())
            if status < 0:
                result.failed()
                continue
            result.count(status, clock() - start)
        conn.close()

    started = clock()
    await asyncio.gather(*(worker(c) for c in conns))
    result.seconds = clock() - started
    return result


async def open_loop(
    port: int, requests: RequestSource, rate: float, seconds: float, connections: int
) -> LoadResult:
    """`rate` requests/s on a fixed schedule; latency counts from the scheduled send time, so a
    slow server (or a busy client) cannot hide queueing (no coordinated omission)."""
    conns = await _connections(port, connections)
    result = LoadResult()
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    total = int(rate * seconds)
    start = clock() + 0.05

    async def schedule() -> None:
        for i in range(total):
            due = start + i / rate
            if due > clock():
                await asyncio.sleep(due - clock())
            queue.put_nowait(due)
        for _ in conns:
            queue.put_nowait(None)

    async def worker(conn: Connection) -> None:
        while (due := await queue.get()) is not None:
            conn, status = await _send(conn, port, requests.next_raw())
            if status < 0:
                result.failed()
                continue
            result.count(status, clock() - due)
        conn.close()

    await asyncio.gather(schedule(), *(worker(c) for c in conns))
    result.seconds = clock() - start
    return result
