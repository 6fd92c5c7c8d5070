"""Packaging tests: fast ones always run; the `packaging` (fresh installs, PyInstaller builds)
and `desktop` (a real window under Xvfb) ones are opt-in locally and always run in CI.

Opt in with OPENPANEL_PACKAGING_TESTS=1 (CI=true does it), after `make packaging-deps`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.packaging.support import Xvfb, start_xvfb

OPT_IN_MARKERS = ("packaging", "desktop")


def opted_in() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("OPENPANEL_PACKAGING_TESTS"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if opted_in():
        return
    skip = pytest.mark.skip(reason="opt-in packaging test: set OPENPANEL_PACKAGING_TESTS=1")
    for item in items:
        if any(item.get_closest_marker(name) for name in OPT_IN_MARKERS):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def xvfb() -> Iterator[Xvfb]:
    """A virtual X screen (Debian's xvfb) for the desktop window."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is missing: `make packaging-deps` installs it (Debian package xvfb)")
    server = start_xvfb()
    try:
        yield server
    finally:
        server.stop()
