"""Plain-English findings about a funnel or a flow: where most visitors are lost, which step is
unusually slow, and which breakdown segment converts much worse than the rest.

Input is deliberately plain (a list of steps `{name, count, medianSeconds?, averageSeconds?}`,
timing meaning "from the previous step", and optional segments `{label, first, converted}`), so
any report with ordered steps can use it. Deterministic: the same input gives the same findings
in the same order. Every finding is `{kind, from, to, lost, percent, text}` plus kind-specific
fields; kinds are ranked biggest_dropoff, weak_segment, slow_step, dropoff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

SLOW_FACTOR = 3.0  # a step is slow when its median is this many times the others' median
SLOW_MIN_SECONDS = 60.0
WEAK_FACTOR = 1.5  # a segment is weak when the overall rate is this many times its rate
WEAK_MIN_POINTS = 2.0  # … and at least this many percentage points lower
STEEP_DROPOFF = 50.0  # other transitions losing at least this share are reported too
_USING = {"browser", "browser_version", "os", "os_version", "device", "brand", "model"}
_FROM = {
    "country",
    "region",
    "city",
    "referrer",
    "referrer_name",
    "referrer_type",
    "origin",
    "utm_source",
    "utm_medium",
    "utm_campaign",
}
_RANK = {"biggest_dropoff": 0, "weak_segment": 1, "slow_step": 2, "dropoff": 3}


def suggest(
    steps: Sequence[Mapping[str, Any]],
    *,
    window_hours: float | None = None,
    unit: str = "visitors",
    segments: Sequence[Mapping[str, Any]] = (),
    dimension: str | None = None,
    min_segment: int = 10,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Ranked findings for ordered steps (`unit` names what is counted, e.g. "visits");
    segments smaller than `min_segment` first-step groups are ignored."""
    found = _dropoffs(steps, window_hours, unit)
    found += _weak_segments(steps, segments, unit, dimension, min_segment)
    found += _slow_steps(steps)
    found.sort(key=lambda f: _RANK[f["kind"]])  # stable: each kind keeps its own order
    return found[:limit]


def _transitions(steps: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, float]]:
    """(index of the later step, groups lost, percent lost) for every step after the first."""
    out = []
    for i in range(1, len(steps)):
        before, after = int(steps[i - 1]["count"]), int(steps[i]["count"])
        lost = max(before - after, 0)
        out.append((i, lost, round(lost * 100 / before, 2) if before else 0.0))
    return out


def _dropoffs(
    steps: Sequence[Mapping[str, Any]], window_hours: float | None, unit: str
) -> list[dict[str, Any]]:
    losing = [t for t in _transitions(steps) if t[1] > 0]
    if not losing:
        return []
    worst = max(losing, key=lambda t: (t[1], -t[0]))
    others = sorted(
        (t for t in losing if t is not worst and t[2] >= STEEP_DROPOFF), key=lambda t: (-t[1], t[0])
    )
    within = f" within {hours_text(window_hours)}" if window_hours else ""
    found = []
    for kind, (i, lost, pct) in [("biggest_dropoff", worst)] + [("dropoff", t) for t in others]:
        source, target = str(steps[i - 1]["name"]), str(steps[i]["name"])
        text = (
            f"{percent_text(pct)} of {unit} that reached {source} did not go on to "
            f"{target}{within} ({lost} lost)."
        )
        found.append(_finding(kind, source, target, lost, pct, text))
    return found


def _weak_segments(
    steps: Sequence[Mapping[str, Any]],
    segments: Sequence[Mapping[str, Any]],
    unit: str,
    dimension: str | None,
    min_segment: int,
) -> list[dict[str, Any]]:
    if len(steps) < 2 or not int(steps[0]["count"]):
        return []
    overall = int(steps[-1]["count"]) * 100 / int(steps[0]["count"])
    source, target = str(steps[0]["name"]), str(steps[-1]["name"])
    found = []
    for seg in segments:
        first, converted = int(seg["first"]), int(seg["converted"])
        if first < min_segment:
            continue
        rate = converted * 100 / first
        if rate * WEAK_FACTOR > overall or overall - rate < WEAK_MIN_POINTS:
            continue
        lost = round(first * overall / 100 - converted)
        who = f"{unit.capitalize()} {segment_phrase(dimension, str(seg['label']))}"
        text = f"{who} convert at {percent_text(rate)} vs {percent_text(overall)} overall."
        finding = _finding("weak_segment", source, target, lost, round(rate, 2), text)
        finding.update(segment=seg["label"], rate=round(rate, 2), overallRate=round(overall, 2))
        found.append(finding)
    found.sort(key=lambda f: (-f["lost"], str(f["segment"])))
    return found


def _slow_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    timed = [
        (i, float(steps[i]["medianSeconds"]))
        for i in range(1, len(steps))
        if steps[i].get("medianSeconds") is not None
    ]
    if len(timed) < 2:
        return []
    i, slowest = max(timed, key=lambda t: (t[1], -t[0]))
    typical = median(m for j, m in timed if j != i)
    if slowest < SLOW_MIN_SECONDS or typical <= 0 or slowest < SLOW_FACTOR * typical:
        return []
    ratio = round(slowest / typical, 1)
    source, target = str(steps[i - 1]["name"]), str(steps[i]["name"])
    _, lost, pct = _transitions(steps)[i - 1]
    text = (
        f"Going from {source} to {target} takes {duration_text(slowest)} (median), "
        f"{ratio:g}× longer than the other steps."
    )
    finding = _finding("slow_step", source, target, lost, pct, text)
    finding.update(medianSeconds=slowest, ratio=ratio)
    return [finding]


def _finding(
    kind: str, source: str, target: str, lost: int, pct: float, text: str
) -> dict[str, Any]:
    return {"kind": kind, "from": source, "to": target, "lost": lost, "percent": pct, "text": text}


def segment_phrase(dimension: str | None, value: str) -> str:
    """'using Safari', 'from GB', 'with plan pro' for a breakdown dimension and value."""
    if dimension in _USING:
        return f"using {value}"
    if dimension in _FROM:
        return f"from {value}"
    if dimension:
        return f"with {dimension.removeprefix('properties.')} {value}"
    return f"in {value}"


def percent_text(value: float) -> str:
    """Whole percent from 10% up, one decimal below (62%, 8.4%)."""
    if value >= 10:
        return f"{int(value + 0.5)}%"
    return f"{value:.1f}%"


def hours_text(hours: float) -> str:
    """'24 h', '7 days', '1.5 h'."""
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} days"
    return f"{hours:g} h"


def duration_text(seconds: float) -> str:
    """'45 s', '4 min 10 s', '3 h 5 min', '2 days 4 h' (rounded to whole seconds)."""
    total = int(seconds + 0.5)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    return f"{secs} s"
