"""The two pages the desktop window can show before the dashboard exists: a welcome page (where to
send events, where the data is) and an error page (why the app cannot start). Self-contained
HTML: no network, no assets."""

from __future__ import annotations

from html import escape
from pathlib import Path

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f6f7fb; color: #1f2430; }
main { max-width: 760px; margin: 48px auto; background: #fff; border-radius: 12px;
       padding: 32px 40px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h1 { font-size: 24px; margin: 0 0 8px; }
.banner { background: #2754c5; color: #fff; padding: 10px 16px; border-radius: 8px;
          font-weight: 600; margin: 16px 0; }
code, pre { font: 13px/1.45 ui-monospace, Menlo, Consolas, monospace; background: #eef1f7;
            border-radius: 6px; }
code { padding: 1px 5px; }
pre { padding: 12px 14px; white-space: pre-wrap; word-break: break-all; }
.error { border-left: 4px solid #c53030; padding-left: 14px; }
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def welcome_page(base_url: str, data_dir: Path) -> str:
    """The start page while no dashboard is served: the ingest URL and first steps."""
    url = escape(base_url)
    folder = escape(str(data_dir))
    create = escape('openpanel project create "My app" --cors "http://localhost:*" --json')
    body = f"""
<h1>OpenPanel is running</h1>
<div class="banner" id="ingest-url">Ingest API: {url}</div>
<p>Point any OpenPanel SDK at <code>apiUrl: "{url}"</code> (or <code>{url}/api</code>).
Apps on this computer can send events to it while this window is open.</p>
<p>Create a project and its client id (works while the app runs):</p>
<pre>{create} --data-dir "{folder}"</pre>
<p>Data folder: <code>{folder}</code> (File → Open data folder). Closing this window stops
the server after every accepted event is stored.</p>
<p>Health: <a href="{url}/-/health">{url}/-/health</a></p>
"""
    return _page("OpenPanel", body)


def message_page(message: str) -> str:
    """A page explaining why the desktop app could not start."""
    body = f"""
<h1>OpenPanel cannot start</h1>
<p class="error">{escape(message)}</p>
<p>Close this window, fix the problem and start OpenPanel again.</p>
"""
    return _page("OpenPanel cannot start", body)
