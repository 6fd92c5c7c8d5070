"""Fixtures of the dashboard tests: account stores on a real SQLite file with a movable clock,
and a real appliance process set up by its owner through the dashboard itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from embedded_db.accounts import Accounts
from embedded_db.logins import Logins
from embedded_db.meta import MetaStore
from tests.dashboard.browser_session import MEMBER_PASSWORD, BrowserSession
from tests.support.server import LiveServer, make_server


@dataclass
class Clock:
    """A settable UTC clock for expiry tests."""

    now: datetime = field(default_factory=lambda: datetime(2026, 5, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[MetaStore]:
    store = MetaStore(tmp_path / "meta.db")
    yield store
    store.close()


@pytest.fixture
def accounts(meta: MetaStore, clock: Clock) -> Accounts:
    return Accounts(meta, clock)


@pytest.fixture
def logins(meta: MetaStore, clock: Clock) -> Logins:
    return Logins(meta, clock)


@dataclass
class Site:
    """A running appliance whose owner went through /setup: their browser and the project."""

    server: LiveServer
    owner: BrowserSession
    project_id: str

    def browser(self) -> BrowserSession:
        return BrowserSession(self.server.url)

    def page(self, section: str) -> str:
        return f"/dashboard/{self.project_id}/{section}"

    def invite(self, role: str, email: str = "") -> str:
        """The owner invites someone; returns the invitation link's path."""
        page = self.owner.post(self.page("settings/members/invite"), {"role": role, "email": email})
        assert page.status_code == 200, page.text[:500]
        found = re.search(r'<code id="invite-link">([^<]+)</code>', page.text)
        assert found, page.text[:500]
        return urlsplit(found.group(1)).path

    def join(self, role: str, email: str) -> BrowserSession:
        """A new person accepts an invitation for `role`; returns their logged-in browser."""
        path = self.invite(role)
        browser = self.browser()
        assert browser.get(path).status_code == 200
        joined = browser.post(path, {"email": email, "password": MEMBER_PASSWORD})
        assert (joined.status_code, joined.headers["location"]) == (303, "/dashboard"), joined.text
        return browser


def start_server(tmp: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    server = make_server(tmp, extra_env)
    server.start()
    return server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One appliance per test module, set up through the dashboard by its owner."""
    server = start_server(tmp_path_factory.mktemp("dashboard"))
    owner = BrowserSession(server.url)
    try:
        created = owner.setup()
        assert created.status_code == 303, created.text[:500]
        project_id = created.headers["location"].split("/")[2]
        yield Site(server, owner, project_id)
    finally:
        owner.close()
        server.stop()
