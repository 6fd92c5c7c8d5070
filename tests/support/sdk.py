"""Talking to a running appliance the way its users do: SDK calls from a site's visitors
(`/track` with the site's origin, a browser's user agent and the visitor's IP) and read-client
calls to the JSON APIs (OpenPanel's query-string conventions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass
class Visitors:
    """Sends SDK calls to the appliance at `url` as a site's visitors' browsers do (secret-less
    client `client_id`, the site's `origin`)."""

    url: str
    client_id: str
    origin: str

    def post(self, body: dict[str, Any], ip: str, ua: str = CHROME) -> httpx.Response:
        headers = {
            "openpanel-client-id": self.client_id,
            "origin": self.origin,
            "user-agent": ua,
            "x-forwarded-for": ip,
        }
        return httpx.post(self.url + "/track", json=body, headers=headers, timeout=30)

    def send(self, kind: str, payload: dict[str, Any], ip: str, ua: str = CHROME) -> Any:
        """One accepted SDK call (asserted 200); its JSON answer ({} when empty)."""
        answer = self.post({"type": kind, "payload": payload}, ip, ua)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.content else {}

    def track(self, name: str, ip: str, ua: str = CHROME, **props: Any) -> Any:
        return self.send("track", {"name": name, "properties": props}, ip, ua)


def api_get(url: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    """GET a read API with OpenPanel's conventions: lists and objects JSON-encoded."""
    query = {k: _encoded(v) for k, v in params.items()}
    return httpx.get(url, params=query, headers=headers, timeout=30)


def _encoded(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value
