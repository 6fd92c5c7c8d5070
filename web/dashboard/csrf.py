"""CSRF protection of every dashboard form, as ASGI middleware on the dashboard routers.

A logged-in browser's token is an HMAC (server key in meta.db) of its session id, so it is bound
to the session and cannot be planted from another site. An anonymous browser (setup, login,
invitation forms) gets a random `op_csrf` cookie and must echo it (double submit). Unsafe
requests must carry the token in the `_csrf` form field or the `x-csrf-token` header (htmx), and
must not come from another site (`Origin` / `Sec-Fetch-Site`); otherwise CsrfRejected (403).
Templates read the token through Litestar's `csrf_token()`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware.base import MiddlewareProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from embedded_db.accounts import digest
from web.dashboard.errors import CsrfRejected
from web.dashboard.state import dashboard

SESSION_COOKIE = "op_session"
CSRF_COOKIE = "op_csrf"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ANONYMOUS = re.compile(r"^[A-Za-z0-9_-]{43}$")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def session_token(key: bytes, session_cookie: str) -> str:
    """The CSRF token of a logged-in browser: HMAC-SHA256 of its session id's digest."""
    return hmac.new(key, b"csrf:" + digest(session_cookie).encode(), hashlib.sha256).hexdigest()


def expected_token(key: bytes, cookies: dict[str, str]) -> str | None:
    """The token this browser's forms must carry, or None if it has none yet."""
    session_cookie = cookies.get(SESSION_COOKIE, "")
    if session_cookie:
        return session_token(key, session_cookie)
    anonymous = cookies.get(CSRF_COOKIE, "")
    return anonymous if _ANONYMOUS.match(anonymous) else None


def cross_site(request: Request[Any, Any, Any], public_url: str = "") -> bool:
    """Whether the browser says the request comes from another site (or an opaque origin)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin", "")
    if not origin or origin == "null":
        return bool(origin)
    ours = {request.headers.get("host", ""), urlsplit(public_url).netloc} - {""}
    return urlsplit(origin).netloc not in ours


class CSRFMiddleware(MiddlewareProtocol):
    """Checks unsafe requests; hands out the anonymous cookie on safe ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        board = dashboard(request.app)
        expected = expected_token(board.csrf_key, request.cookies)
        state = ScopeState.from_scope(scope)
        if request.method in SAFE_METHODS:
            if expected is None:
                expected = secrets.token_urlsafe(32)
                https = request.url.scheme == "https" or board.public_url.startswith("https://")
                send = _with_cookie(send, expected, https)
            state.csrf_token = expected
            await self.app(scope, receive, send)
            return
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type[0] in _FORMS:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if (
            cross_site(request, board.public_url)
            or expected is None
            or not sent
            or not hmac.compare_digest(sent.encode(), expected.encode())
        ):
            raise CsrfRejected("CSRF token missing or invalid")
        state.csrf_token = expected
        await self.app(scope, receive, send)


def _with_cookie(send: Send, token: str, secure: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = Cookie(
                key=CSRF_COOKIE, value=token, path="/", httponly=True, samesite="lax", secure=secure
            )
            MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
        await send(message)

    return wrapped
