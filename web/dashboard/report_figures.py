"""Plotly figures of the report builder and dashboard tiles, built in Python from report output
(the page hands the JSON to plotly.js through a `data-figure` attribute).

One function per chart type: lines and areas over time (the previous period dashed), bars and
pie slices of each series' total, big numbers, a world map (choropleth of the first series
broken down by country), the funnel, the retention heatmap, the conversion rate over time and
the user-flow sankey. Every label that comes from data (event names, paths, breakdown values)
is HTML-escaped, because plotly.js reads a few HTML tags in text; it shows the escaped text
literally.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from web.dashboard.charts import LINE_COLOR, PREVIOUS_COLOR, local_time

Result = dict[str, Any]
PALETTE = ("#6366f1", "#10b981", "#f59e0b", "#ef4444", "#06b6d4", "#8b5cf6", "#ec4899", "#84cc16")
METRIC_NAMES = {"sum": "Total", "average": "Average", "min": "Min", "max": "Max", "count": "Count"}
# ISO 3166 alpha-2 → alpha-3 (the map's country ids), as pairs of both codes.
_ISO = """
ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA
AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES
BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK
CLCHL CMCMR CNCHN COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA
DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA
GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS
GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD
IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA
KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA
LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ
MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC
NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM
PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC
SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP SVSLV
SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR
TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR
VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE
"""
ISO3 = {pair[:2]: pair[2:] for pair in _ISO.split()}


def text(value: Any) -> str:
    """A data label safe for plotly.js text (its HTML-like tags are shown, not applied)."""
    return html.escape(str(value), quote=False)


def figure(kind: str, chart_type: str, data: Result, interval: str, metric: str = "sum") -> str:
    """The figure JSON of a report result (`kind` from report_run.Prepared)."""
    if kind == "funnel":
        fig = funnel_figure(data)
    elif kind == "conversion":
        fig = conversion_figure(data, interval)
    elif kind == "retention":
        fig = retention_figure(data)
    elif kind == "flow":
        fig = sankey_figure(data)
    elif chart_type in ("linear", "area"):
        fig = time_figure(data, interval, area=chart_type == "area")
    elif chart_type == "bar":
        fig = bar_figure(data, metric)
    elif chart_type == "pie":
        fig = pie_figure(data, metric)
    elif chart_type == "metric":
        fig = metric_figure(data, metric)
    else:
        fig = map_figure(data, metric)
    return str(fig.to_json())


def _name(serie: dict[str, Any]) -> str:
    return text(" · ".join(str(n) for n in serie["names"]))


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)] if i else LINE_COLOR


def time_figure(data: Result, interval: str, area: bool = False) -> go.Figure:
    """One line (or stacked area) per series over the buckets; previous periods dotted."""
    fig = go.Figure()
    for i, serie in enumerate(data["series"]):
        x = [local_time(p["date"]) for p in serie["data"]]
        before = [p["previous"]["value"] for p in serie["data"] if "previous" in p]
        if before:
            fig.add_trace(
                go.Scatter(
                    x=x[: len(before)],
                    y=before,
                    name=_name(serie) + " (previous)",
                    mode="lines",
                    line={"color": PREVIOUS_COLOR, "width": 1.5, "dash": "dot"},
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p["count"] for p in serie["data"]],
                name=_name(serie),
                mode="lines+markers" if len(x) <= 31 else "lines",
                line={"color": _color(i), "width": 2.5},
                marker={"size": 5},
                stackgroup="one" if area else None,
            )
        )
    fig.update_layout(layout(legend=len(fig.data) > 1, dates=interval))
    return fig


def bar_figure(data: Result, metric: str) -> go.Figure:
    """A horizontal bar per series (and breakdown group): its `metric` over the range."""
    series = list(reversed(data["series"]))
    fig = go.Figure(
        go.Bar(
            x=[s["metrics"].get(metric, 0) for s in series],
            y=[_name(s) for s in series],
            orientation="h",
            marker={"color": LINE_COLOR},
            text=[s["metrics"].get(metric, 0) for s in series],
            textposition="auto",
        )
    )
    fig.update_layout(layout(category_y=True))
    return fig


def pie_figure(data: Result, metric: str) -> go.Figure:
    """A slice per series (and breakdown group), sized by its `metric`."""
    fig = go.Figure(
        go.Pie(
            labels=[_name(s) for s in data["series"]],
            values=[s["metrics"].get(metric, 0) for s in data["series"]],
            hole=0.45,
            marker={"colors": list(PALETTE)},
            sort=False,
        )
    )
    fig.update_layout(layout(legend=True))
    return fig


def metric_figure(data: Result, metric: str) -> go.Figure:
    """Big numbers: each series' `metric` (at most four), with the change when compared."""
    series = data["series"][:4]
    fig = go.Figure()
    for i, serie in enumerate(series):
        previous = serie["metrics"].get("previous", {}).get(metric)
        reference = previous.get("value") if previous else None
        fig.add_trace(
            go.Indicator(
                mode="number+delta" if reference is not None else "number",
                value=serie["metrics"].get(metric, 0),
                delta={"reference": reference, "relative": True, "valueformat": ".1%"},
                title={
                    "text": _name(serie)
                    + "<br><span style='font-size:0.8em'>"
                    + METRIC_NAMES.get(metric, metric)
                    + "</span>"
                },
                domain={"x": [i / len(series), (i + 1) / len(series)], "y": [0, 1]},
            )
        )
    fig.update_layout(layout())
    return fig


def map_figure(data: Result, metric: str) -> go.Figure:
    """The first series by country on a world map (countries without a code are left out)."""
    values: dict[str, float] = {}
    first = data["series"][0]["event"]["id"] if data["series"] else None
    for serie in data["series"]:
        if serie.get("others") or serie["event"]["id"] != first:
            continue
        country = str(serie["event"]["breakdowns"].get("country", ""))
        if country.upper() in ISO3:
            values[ISO3[country.upper()]] = serie["metrics"].get(metric, 0)
    fig = go.Figure(
        go.Choropleth(
            locations=list(values),
            z=list(values.values()),
            locationmode="ISO-3",
            colorscale=[[0, "#e0e7ff"], [1, LINE_COLOR]],
            marker={"line": {"width": 0.4, "color": "#94a3b8"}},
            colorbar={"thickness": 10, "len": 0.6},
        )
    )
    fig.update_layout(layout())
    fig.update_geos(
        projection_rotation_lon=0,
        center_lon=0,
        lonaxis_range=[-180, 180],
        lataxis_range=[-58, 85],
        showframe=False,
        showcoastlines=False,
        projection_type="natural earth",
        showcountries=True,
        countrycolor="#cbd5e1",
        landcolor="rgba(148,163,184,0.15)",
        bgcolor="rgba(0,0,0,0)",
        showland=True,
    )
    return fig


def funnel_figure(data: Result) -> go.Figure:
    """The funnel's steps with their count and share of the first step."""
    steps = data["steps"]
    fig = go.Figure(
        go.Funnel(
            y=[f"{s['step']}. {text(s['label'])}" for s in steps],
            x=[s["count"] for s in steps],
            textinfo="value+percent initial",
            marker={"color": LINE_COLOR},
            connector={"fillcolor": "rgba(99, 102, 241, 0.15)"},
        )
    )
    fig.update_layout(layout(category_y=True))
    return fig


def conversion_figure(data: Result, interval: str) -> go.Figure:
    """The funnel's conversion rate (percent) per bucket, one line per breakdown value."""
    fig = go.Figure()
    for i, serie in enumerate(data["series"]):
        fig.add_trace(
            go.Scatter(
                x=[local_time(p["date"]) for p in serie["data"]],
                y=[p["rate"] for p in serie["data"]],
                name=text(" · ".join(serie["breakdowns"]) or "Conversion rate"),
                mode="lines+markers",
                line={"color": _color(i), "width": 2.5},
            )
        )
    fig.update_layout(layout(legend=len(fig.data) > 1, dates=interval))
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    return fig


def retention_figure(data: Result) -> go.Figure:
    """A heatmap of returning visitors (percent of the cohort) per cohort and period."""
    cohorts = data["cohorts"]
    z = [[None if v is None else v["percent"] for v in c["values"]] for c in cohorts]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{data['interval'].title()} {k}" for k in range(data["periods"])],
            y=[f"{local_time(c['date'])[:10]} ({c['size']})" for c in cohorts],
            colorscale=[[0, "#eef2ff"], [1, LINE_COLOR]],
            zmin=0,
            zmax=100,
            text=[["" if v is None else f"{v:.0f}%" for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate="%{y}, %{x}: %{z:.1f}%<extra></extra>",
            showscale=False,
        )
    )
    fig.update_layout(layout(category_y=True))
    fig.update_yaxes(autorange="reversed")
    return fig


def sankey_figure(data: Result) -> go.Figure:
    """Nodes (events or pages at each step) and the visits flowing between them."""
    nodes = data["nodes"]
    index = {n["id"]: i for i, n in enumerate(nodes)}
    links = [ln for ln in data["links"] if ln["source"] in index and ln["target"] in index]
    fig = go.Figure(
        go.Sankey(
            node={
                "label": [text(n["label"]) for n in nodes],
                "color": [_color(n["step"] - 1) for n in nodes],
                "pad": 12,
                "thickness": 14,
            },
            link={
                "source": [index[ln["source"]] for ln in links],
                "target": [index[ln["target"]] for ln in links],
                "value": [ln["value"] for ln in links],
                "color": "rgba(99, 102, 241, 0.18)",
            },
        )
    )
    fig.update_layout(layout())
    return fig


def layout(
    legend: bool = False, dates: str | None = None, category_y: bool = False
) -> dict[str, Any]:
    """The shared layout: transparent, compact, fixed axes (the page sets colours)."""
    out: dict[str, Any] = {
        "template": "none",
        "autosize": True,
        "margin": {"l": 48, "r": 16, "t": 16, "b": 36},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.2},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "yaxis": {"fixedrange": True, "automargin": True, "zeroline": False},
        "xaxis": {"fixedrange": True, "automargin": True},
    }
    if dates:
        out["hovermode"] = "x unified"
        out["xaxis"].update(type="date", showgrid=False)
    if category_y:
        out["yaxis"]["type"] = "category"
    return out
