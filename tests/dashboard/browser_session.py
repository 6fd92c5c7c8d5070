"""An httpx client that behaves like one browser on the dashboard: it keeps cookies, reads the
CSRF token from the pages it loads and sends it with its forms."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "correct horse battery"
MEMBER_PASSWORD = "member passphrase"
_HX_HEADERS = re.compile(r"hx-headers='([^']+)'")


def csrf_of(html: str) -> str:
    """The CSRF token a dashboard page hands its forms (the body's htmx headers)."""
    found = _HX_HEADERS.search(html)
    assert found, f"no CSRF token in the page: {html[:300]}"
    token: str = json.loads(found.group(1))["x-csrf-token"]
    return token


def _remember(session: BrowserSession, response: httpx.Response) -> None:
    """Keep the token of a page that carries one (an error page after a refusal has none)."""
    if "hx-headers=" in response.text:
        token = csrf_of(response.text)
        if token:
            session.token = token


class BrowserSession:
    """One browser: cookies persist across requests; `post` adds the CSRF token of the last page
    it loaded (fetching a page first when it logged in or out since)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        self._token = ""
        self._token_session = ""

    @property
    def token(self) -> str:
        if self._token_session != self.http.cookies.get("op_session", ""):
            self.get("/invite/-")  # a page any browser may load, carrying its token
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        self._token = value
        self._token_session = self.http.cookies.get("op_session", "")

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        _remember(self, response)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["_csrf"] = self.token
        response = self.http.post(path, data=form, **kwargs)
        _remember(self, response)
        return response

    def follow(self, response: httpx.Response) -> httpx.Response:
        """GET the redirect target of `response`."""
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        return self.get(response.headers["location"])

    def login(self, email: str, password: str) -> httpx.Response:
        self.get("/login")
        return self.post("/login", {"email": email, "password": password})

    def setup(self, **fields: str) -> httpx.Response:
        """Submit the first-run form (defaults: the owner and a project `Shop`)."""
        form = {
            "email": OWNER_EMAIL,
            "password": OWNER_PASSWORD,
            "organization": "Acme",
            "project": "Shop",
            "domain": "shop.example.com",
            "timezone": "Europe/Berlin",
            **fields,
        }
        self.get("/setup")
        return self.post("/setup", form)


def poll(
    fetch: Callable[[], httpx.Response],
    done: Callable[[httpx.Response], bool],
    timeout: float = 15,
) -> httpx.Response:
    """Fetch until `done` holds or `timeout` seconds passed; return the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = fetch()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)
