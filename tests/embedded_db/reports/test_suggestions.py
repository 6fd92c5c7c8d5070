"""Funnel suggestions: pure, deterministic findings worked out by hand."""

from __future__ import annotations

from embedded_db.reports.suggestions import (
    duration_text,
    hours_text,
    percent_text,
    segment_phrase,
    suggest,
)

PRICING = [
    {"name": "/pricing", "count": 1000},
    {"name": "sign-up", "count": 380},
    {"name": "purchase", "count": 84},
]


def test_the_biggest_drop_off_is_stated_in_words() -> None:
    [top, steep] = suggest(PRICING, window_hours=24)
    assert top == {
        "kind": "biggest_dropoff",
        "from": "/pricing",
        "to": "sign-up",
        "lost": 620,
        "percent": 62.0,
        "text": "62% of visitors that reached /pricing did not go on to sign-up within 24 h "
        "(620 lost).",
    }
    # sign-up → purchase loses 296 of 380 (77.89%): steep, so reported after the biggest one.
    assert (steep["kind"], steep["lost"], steep["percent"]) == ("dropoff", 296, 77.89)
    assert steep["text"].startswith("78% of visitors that reached sign-up")


def test_ties_go_to_the_earlier_transition_and_gentle_ones_are_not_reported() -> None:
    steps = [{"name": "a", "count": 100}, {"name": "b", "count": 80}, {"name": "c", "count": 60}]
    found = suggest(steps, unit="visits")
    assert [(f["kind"], f["from"], f["to"], f["lost"]) for f in found] == [
        ("biggest_dropoff", "a", "b", 20)
    ]
    assert found[0]["text"] == "20% of visits that reached a did not go on to b (20 lost)."


def test_nothing_to_say_about_a_funnel_without_losses_or_traffic() -> None:
    assert suggest([{"name": "a", "count": 5}, {"name": "b", "count": 5}]) == []
    assert suggest([{"name": "a", "count": 0}, {"name": "b", "count": 0}]) == []
    assert suggest([]) == []


def test_a_segment_that_converts_much_worse_is_named() -> None:
    # Overall 84 / 1000 = 8.4%. Safari: 7 of 226 = 3.097…% (expected 18.98 → 12 lost).
    segments = [
        {"label": "Chrome", "first": 700, "converted": 75},  # 10.7%: better
        {"label": "Safari", "first": 226, "converted": 7},
        {"label": "Firefox", "first": 9, "converted": 0},  # too small to judge
        {"label": "Edge", "first": 65, "converted": 2},  # 3.08% … 3.4 expected lost → 3
    ]
    found = suggest(PRICING, segments=segments, dimension="browser")
    weak = [f for f in found if f["kind"] == "weak_segment"]
    assert [(f["segment"], f["lost"], f["rate"]) for f in weak] == [
        ("Safari", 12, 3.1),
        ("Edge", 3, 3.08),
    ]
    assert weak[0]["text"] == "Visitors using Safari convert at 3.1% vs 8.4% overall."
    assert (weak[0]["from"], weak[0]["to"], weak[0]["overallRate"]) == ("/pricing", "purchase", 8.4)
    assert [f["kind"] for f in found] == [
        "biggest_dropoff",
        "weak_segment",
        "weak_segment",
        "dropoff",
    ]


def test_a_segment_only_slightly_worse_is_not_a_finding() -> None:
    steps = [{"name": "a", "count": 100}, {"name": "b", "count": 50}]
    segments = [{"label": "x", "first": 40, "converted": 14}]  # 35% vs 50%: not 1.5× worse
    assert [f["kind"] for f in suggest(steps, segments=segments)] == ["biggest_dropoff"]


def test_an_unusually_slow_step_is_named_with_its_median() -> None:
    steps = [
        {"name": "a", "count": 10},
        {"name": "b", "count": 10, "medianSeconds": 40.0},
        {"name": "c", "count": 10, "medianSeconds": 15_000.0},
        {"name": "d", "count": 10, "medianSeconds": 80.0},
    ]
    [slow] = suggest(steps)
    assert slow == {
        "kind": "slow_step",
        "from": "b",
        "to": "c",
        "lost": 0,
        "percent": 0.0,
        "text": "Going from b to c takes 4 h 10 min (median), 250× longer than the other steps.",
        "medianSeconds": 15_000.0,
        "ratio": 250.0,  # 15000 / median(40, 80) = 15000 / 60
    }


def test_slowness_needs_a_comparison_and_a_real_delay() -> None:
    one = [{"name": "a", "count": 3}, {"name": "b", "count": 3, "medianSeconds": 9_000.0}]
    assert suggest(one) == []
    quick = [
        {"name": "a", "count": 3},
        {"name": "b", "count": 3, "medianSeconds": 2.0},
        {"name": "c", "count": 3, "medianSeconds": 50.0},  # 25× but under a minute
    ]
    assert suggest(quick) == []


def test_findings_are_limited_and_repeatable() -> None:
    steps = [{"name": f"s{i}", "count": 2 ** (10 - i)} for i in range(8)]  # each halves
    first = suggest(steps, limit=3)
    assert first == suggest(steps, limit=3)
    assert [(f["kind"], f["from"]) for f in first] == [
        ("biggest_dropoff", "s0"),
        ("dropoff", "s1"),
        ("dropoff", "s2"),
    ]


def test_text_helpers() -> None:
    assert [percent_text(v) for v in (62.0, 61.5, 8.44, 0.0, 100.0)] == [
        "62%",
        "62%",
        "8.4%",
        "0.0%",
        "100%",
    ]
    assert [hours_text(h) for h in (24, 1.5, 48, 50, 168)] == [
        "24 h",
        "1.5 h",
        "2 days",
        "50 h",
        "7 days",
    ]
    assert [duration_text(s) for s in (0.4, 45, 250, 3600, 11_100, 86_400, 187_200)] == [
        "0 s",
        "45 s",
        "4 min 10 s",
        "1 h",
        "3 h 5 min",
        "1 day",
        "2 days 4 h",
    ]
    assert segment_phrase("country", "GB") == "from GB"
    assert segment_phrase("properties.plan", "pro") == "with plan pro"
    assert segment_phrase(None, "x") == "in x"
