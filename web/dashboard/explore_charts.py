"""Plotly figures of the Events and Profiles pages, built in Python from report output and sent to
the browser as JSON (static/dashboard.js draws every `data-figure`): an event's trend from the
chart engine, and a profile's activity per day as bars (short ranges) or a weekday × week
heatmap (long ones). Dates are the project's local days and bucket starts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go

from web.dashboard.charts import line_figure

BAR_DAYS = 62  # up to this many days the activity is drawn as bars
ACCENT = "#6366f1"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEAT_SCALE = [[0.0, "rgba(99, 102, 241, 0.06)"], [1.0, "rgba(79, 70, 229, 1)"]]


def trend_figure(
    result: dict[str, Any], label: str, interval: str, previous_dates: list[str] | None = None
) -> str:
    """A line of the first series of a chart-engine result (`{series: [{data: [{date, count,
    previous?}]}]}`), with the previous period dashed when the points carry it."""
    data = result["series"][0]["data"] if result["series"] else []
    points = [{"date": p["date"], label: p["count"]} for p in data]
    before = None
    if previous_dates is not None and data and all("previous" in p for p in data):
        before = [
            {"date": day, label: p["previous"]["value"]}
            for day, p in zip(previous_dates, data, strict=False)
        ]
    return line_figure(points, label, interval, before)


def activity_figure(days: list[dict[str, Any]]) -> str:
    """Events per day (`[{date: 'YYYY-MM-DD', count}]`, zero-filled) as bars, or as a heatmap
    of weekdays by week when the range is longer than BAR_DAYS."""
    if len(days) <= BAR_DAYS:
        return _bars(days)
    return _heatmap(days)


def _bars(days: list[dict[str, Any]]) -> str:
    fig = go.Figure(
        go.Bar(
            x=[d["date"] for d in days],
            y=[d["count"] for d in days],
            marker={"color": ACCENT},
            hovertemplate="%{x}: %{y} events<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(220),
        xaxis={"type": "date", "tickformat": "%b %d", "fixedrange": True, "showgrid": False},
        yaxis={"rangemode": "tozero", "fixedrange": True},
        bargap=0.25,
    )
    return str(fig.to_json())


def _heatmap(days: list[dict[str, Any]]) -> str:
    first = date.fromisoformat(days[0]["date"])
    monday = first - timedelta(days=first.weekday())
    weeks = (date.fromisoformat(days[-1]["date"]) - monday).days // 7 + 1
    z: list[list[int | None]] = [[None] * weeks for _ in WEEKDAYS]
    for d in days:
        day = date.fromisoformat(d["date"])
        z[day.weekday()][(day - monday).days // 7] = int(d["count"])
    x = [(monday + timedelta(weeks=w)).isoformat() for w in range(weeks)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=list(WEEKDAYS),
            colorscale=HEAT_SCALE,
            showscale=False,
            xgap=3,
            ygap=3,
            hoverongaps=False,
            hovertemplate="week of %{x}, %{y}: %{z} events<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(220),
        xaxis={"type": "date", "tickformat": "%b %d", "fixedrange": True, "showgrid": False},
        yaxis={"autorange": "reversed", "fixedrange": True, "showgrid": False},
    )
    return str(fig.to_json())


def _layout(height: int) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 44, "r": 12, "t": 8, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
