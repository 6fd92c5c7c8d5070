"""Fixtures for the SDK compatibility suite: the pinned npm packages.

The published SDKs are installed by `npm ci` in tests/compat/node (the Makefile's `node-deps`);
these fixtures fail with the command to run when they are missing rather than skipping, so a
broken setup never looks like a green suite.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node_dir() -> Path:
    """tests/compat/node with its pinned packages installed."""
    if shutil.which("node") is None:
        pytest.fail("Node.js (>= 20) is not on PATH; the SDK compatibility tests need it")
    if not (NODE_DIR / "node_modules" / "@openpanel" / "sdk" / "package.json").is_file():
        pytest.fail(
            f"the pinned OpenPanel npm packages are not installed in {NODE_DIR}; run "
            f"`make node-deps` (or `cd {NODE_DIR} && npm ci`) first"
        )
    return NODE_DIR
