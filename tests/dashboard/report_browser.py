"""Playwright helpers of the report, XSS and end-to-end browser tests (on top of
tests/support/browser.py): the customer page with tracked buttons, the watcher the report pages
need, and screenshots (test artifacts, and the docs' images when OPENPANEL_DOCS_IMG names a
folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.support.browser import CustomerSite, artifacts_folder, chrome_ua
from tests.support.browser import Watcher as PageWatcher

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page, str], None]:
    """`shots(page, name)` saves the viewport as a PNG artifact (and a docs image)."""
    folder = artifacts_folder(tmp_path_factory)
    docs = os.environ.get("OPENPANEL_DOCS_IMG")

    def shoot(page: Page, name: str) -> None:
        path = folder / f"reports-{name}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 5000, name
        if docs:
            page.screenshot(path=str(Path(docs) / f"{name}.png"))

    return shoot


# A page whose buttons the web SDK tracks by their `data-track` attribute.
SITE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Chai shop</title><link rel="icon" href="data:,">
{snippet}
</head><body><h1>Chai shop</h1>
<button id="start" data-track="signup_started" data-plan="pro">Start signup</button>
<button id="done" data-track="signup_done">Finish signup</button>
</body></html>
"""


@dataclass
class Watcher(PageWatcher):
    """The shared watcher; on the report pages htmx fetches may be cut short too."""

    cut_short: frozenset[str] = frozenset({"eventsource", "xhr", "fetch"})


__all__ = ["SITE_PAGE", "VIEWPORT", "CustomerSite", "Watcher", "chrome_ua", "shots"]
