"""Event-name blocklist (compat §1.6) and reserved names (§2.9)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.enrich.names import (
    BLOCKED_NAME_MARKERS,
    MAX_EVENT_NAME_LENGTH,
    RESERVED_EVENT_NAMES,
    blocked_event_name_reason,
    event_name_error,
)


@pytest.mark.parametrize(
    "name",
    [
        "screen_view",
        "link_out",
        "Sign Up",
        "checkout.completed",
        "/pricing",
        "/docs/getting-started",
        "/blog/2024/launch.html",
        "button clicked: Buy now",
        "über_uns",
        "注册",
        "a" * MAX_EVENT_NAME_LENGTH,
        "é" * MAX_EVENT_NAME_LENGTH,
        "session_start",  # reserved, but that is a separate check
    ],
)
def test_normal_names_pass(name: str) -> None:
    assert blocked_event_name_reason(name) is None


def test_length_limit_counts_like_javascript() -> None:
    assert blocked_event_name_reason("a" * 81) == "event name is longer than 80 characters"
    # An emoji is two UTF-16 code units, as String.length counts it upstream.
    assert blocked_event_name_reason("😀" * 40) is None
    assert blocked_event_name_reason("😀" * 41) is not None


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "line\r\n"])
def test_line_breaks_are_blocked(name: str) -> None:
    assert blocked_event_name_reason(name) == "event name contains a line break"


@pytest.mark.parametrize(
    "name",
    [
        "x.oastify.com",
        "BurpCollaborator ping",
        "1;SELECT PG_SLEEP(5)",
        "1 UNION SELECT password",
        "../../secret",
        "%2E%2E%2Fsecret",
        "/etc/passwd",
        "${jndi:ldap://x}",
        "%{(#_memberAccess)}",
        "<!DOCTYPE foo>",
        "bcc:victim@example.com",
        "phpinfo.php",
        "wp-config.php.bak",
        ".git/config",
        "/cgi-bin/test",
        "' OR '1'='1",
    ],
)
def test_scanner_markers_are_blocked(name: str) -> None:
    reason = blocked_event_name_reason(name)
    assert reason is not None and reason.startswith("event name contains the blocked sequence")


@pytest.mark.parametrize(
    "name",
    [
        "/.env",
        "/.git/HEAD",
        "/app/.aws/credentials",
        "/wp-admin",
        "/wp-login.php",
        "/phpMyAdmin/",
        "/phpmyadmin",
        "/index.php",
        "/admin/config.php",
        "/config.json",
        "/docker-compose.yml",
        "/web.config",
        "/settings.ini",
        "/backup.sql",
        "/db.bak",
        "/debug.log",
        "/sitemap.xml",
        "/static/APP.JSON?v=1",
        "GET /.env HTTP/1.1",
    ],
)
def test_path_scans_are_blocked(name: str) -> None:
    reason = blocked_event_name_reason(name)
    assert reason is not None and reason.startswith("event name looks like a scan for")


def test_every_marker_is_lowercase_so_matching_is_case_insensitive() -> None:
    assert all(marker == marker.lower() for marker in BLOCKED_NAME_MARKERS)


def test_reserved_names() -> None:
    assert frozenset({"session_start", "session_end"}) == RESERVED_EVENT_NAMES


def test_event_name_error_combines_all_checks() -> None:
    assert event_name_error("screen_view") is None
    assert event_name_error("") == "event name is empty"
    assert event_name_error("session_end") is not None
    assert event_name_error("/.env") is not None


@given(st.text(max_size=120))
def test_never_raises(name: str) -> None:
    reason = blocked_event_name_reason(name)
    assert reason is None or reason.startswith("event name")


@given(st.text(alphabet=st.characters(categories=("L", "N")), max_size=40))
def test_letters_and_digits_alone_pass_unless_they_spell_a_marker(name: str) -> None:
    # A few markers are plain words ("burpcollaborator"), so only names without them must pass.
    spelled = any(m.isalnum() and m in name.lower() for m in BLOCKED_NAME_MARKERS)
    assert (blocked_event_name_reason(name) is None) != spelled
