"""/insights/{projectId}/profiles, sessions, events and user_flow: people, visits, events and
paths over HTTP."""

from __future__ import annotations

from typing import Any

PEOPLE_HANDLERS: list[Any] = []
