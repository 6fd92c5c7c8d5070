"""Plotly figures of the dashboard, built in Python and drawn by the locally served plotly.js.

Pure functions: report output in, figure JSON out (the page puts it in a `data-figure`
attribute; static/dashboard.js hands it to `Plotly.newPlot`). Bucket starts arrive as ISO times
in the project's timezone and are plotted as local wall-clock times, as the project sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import pycountry

METRIC_LABELS = {
    "unique_visitors": "Unique visitors",
    "total_sessions": "Sessions",
    "total_screen_views": "Pageviews",
    "views_per_session": "Views per session",
    "bounce_rate": "Bounce rate",
    "avg_session_duration": "Session duration",
    "total_revenue": "Revenue",
}
LINE_COLOR = "#6366f1"
PREVIOUS_COLOR = "#94a3b8"
_AXIS_FORMAT = {
    "minute": "%H:%M",
    "hour": "%H:%M",
    "day": "%b %d",
    "week": "%b %d",
    "month": "%b %Y",
}


def local_time(iso_time: str) -> str:
    """'2026-05-01T00:00:00+02:00' → '2026-05-01 00:00' (the wall-clock time it names)."""
    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%d %H:%M")


def metric_value(point: dict[str, Any], metric: str) -> float:
    """A metric of one series point in display units (revenue: major units)."""
    value = float(point.get(metric) or 0)
    return value / 100 if metric == "total_revenue" else value


def line_figure(
    series: list[dict[str, Any]],
    metric: str,
    interval: str,
    previous: list[dict[str, Any]] | None = None,
) -> str:
    """A line chart of `metric` over the buckets of an overview series (plus, when given, the
    previous period drawn dashed under the same buckets); the figure as JSON."""
    label = METRIC_LABELS.get(metric, metric)
    x = [local_time(p["date"]) for p in series]
    fig = go.Figure()
    if previous:
        before = [metric_value(p, metric) for p in previous][: len(x)]
        fig.add_trace(
            go.Scatter(
                x=x[: len(before)],
                y=before,
                name="Previous period",
                mode="lines",
                line={"color": PREVIOUS_COLOR, "width": 2, "dash": "dot"},
                customdata=[local_time(p["date"]) for p in previous][: len(x)],
                hovertemplate="%{customdata}: %{y}<extra>previous</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[metric_value(p, metric) for p in series],
            name=label,
            mode="lines+markers" if len(x) <= 31 else "lines",
            line={"color": LINE_COLOR, "width": 2.5},
            marker={"size": 5},
            fill="tozeroy",
            fillcolor="rgba(99, 102, 241, 0.12)",
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    fig.update_layout(_layout(interval, show_legend=bool(previous)))
    return str(fig.to_json())


def _layout(interval: str, show_legend: bool) -> dict[str, Any]:
    return {
        "template": "none",
        "height": 280,
        "margin": {"l": 48, "r": 16, "t": 8, "b": 36},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "showlegend": show_legend,
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {
            "type": "date",
            "tickformat": _AXIS_FORMAT.get(interval, "%b %d"),
            "showgrid": False,
            "fixedrange": True,
        },
        "yaxis": {"rangemode": "tozero", "fixedrange": True, "zeroline": False},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }


# -- sparklines and maps (the overview's cards, the countries widget, realtime) -------------------
SPARK_WIDTH = 120
SPARK_HEIGHT = 28
MAP_COLORSCALE = [[0.0, "#c7d2fe"], [1.0, "#4338ca"]]


def sparkline(values: list[float], width: int = SPARK_WIDTH, height: int = SPARK_HEIGHT) -> str:
    """SVG polyline points ('x,y x,y …') of a series scaled into width × height; empty for
    fewer than two values. Numbers only, so the template can put it in an attribute."""
    if len(values) < 2:
        return ""
    top = max(values)
    bottom = min(0.0, min(values))
    span = (top - bottom) or 1.0
    step = width / (len(values) - 1)
    pad = 2
    return " ".join(
        f"{i * step:.1f},{pad + (height - 2 * pad) * (1 - (v - bottom) / span):.1f}"
        for i, v in enumerate(values)
    )


def iso3(alpha2: str) -> str | None:
    """'DE' → 'DEU' (the ISO 3166 code Plotly's world map draws), None when unknown."""
    found = pycountry.countries.get(alpha_2=alpha2.upper()) if len(alpha2) == 2 else None
    return str(found.alpha_3) if found is not None else None


def country_name(alpha2: str) -> str:
    """'DE' → 'Germany'; the code itself when unknown (and 'Unknown' for an empty one)."""
    if not alpha2:
        return "Unknown"
    found = pycountry.countries.get(alpha_2=alpha2.upper()) if len(alpha2) == 2 else None
    return str(getattr(found, "common_name", None) or found.name) if found else alpha2


def _geo_layout(height: int) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "dragmode": False,
        "geo": {
            "projection": {"type": "natural earth"},
            "showframe": False,
            "showcoastlines": False,
            "showcountries": True,
            "showland": True,
            "bgcolor": "rgba(0,0,0,0)",
            "lataxis": {"range": [-58, 85]},
        },
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }


def _choropleth(countries: list[dict[str, Any]], value: str) -> go.Choropleth | None:
    located = [(iso3(str(c["country"])), c) for c in countries]
    located = [(code, c) for code, c in located if code]
    if not located:
        return None
    return go.Choropleth(
        locations=[code for code, _ in located],
        z=[c[value] for _, c in located],
        text=[country_name(str(c["country"])) for _, c in located],
        locationmode="ISO-3",
        colorscale=MAP_COLORSCALE,
        showscale=False,
        marker={"line": {"width": 0.5, "color": "rgba(255,255,255,0.6)"}},
        hovertemplate="%{text}: %{z}<extra></extra>",
    )


def world_map_figure(countries: list[dict[str, Any]], value: str = "sessions") -> str:
    """A choropleth world map of `map_points` countries (ISO-2 codes, coloured by `value`); the
    figure as JSON."""
    fig = go.Figure()
    shape = _choropleth(countries, value)
    if shape is not None:
        fig.add_trace(shape)
    fig.update_layout(_geo_layout(300))
    return str(fig.to_json())


def live_map_figure(points: dict[str, Any]) -> str:
    """Current visitors on a world map: countries shaded by visitors, and a dot per city with
    coordinates sized by its visitors (`map_points` output); the figure as JSON."""
    fig = go.Figure()
    shape = _choropleth(points.get("countries", []), "visitors")
    if shape is not None:
        fig.add_trace(shape)
    cities = points.get("cities", [])
    if cities:
        most = max(int(c["visitors"]) for c in cities) or 1
        fig.add_trace(
            go.Scattergeo(
                lat=[c["latitude"] for c in cities],
                lon=[c["longitude"] for c in cities],
                text=[f"{c['city']}, {country_name(str(c['country']))}" for c in cities],
                customdata=[c["visitors"] for c in cities],
                mode="markers",
                marker={
                    "size": [8 + 14 * int(c["visitors"]) / most for c in cities],
                    "color": LINE_COLOR,
                    "opacity": 0.85,
                    "line": {"width": 1, "color": "#ffffff"},
                },
                hovertemplate="%{text}: %{customdata} visitors<extra></extra>",
            )
        )
    fig.update_layout(_geo_layout(320))
    return str(fig.to_json())
