"""The fixed world the scenario plays in: the site's pages, traffic sources, places, browsers
and people's names.

Everything here is data. Weights are relative; the scenario draws from them with its own seeded
`random.Random`. Places carry a public IPv4 network (/14) of their own, so every visitor gets a
unique address and a GeoIP database built from `PLACES` (tests do that) locates it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

ORIGIN = "https://shop.example"
SDK_NAME, SDK_VERSION = "web", "1.4.1"  # the site runs @openpanel/web


@dataclass(frozen=True, slots=True)
class Place:
    """A city visitors come from: ISO country, English region/city names, coordinates, the
    UTC offset its day follows (hours, no DST) and the /14 network its addresses are in."""

    country: str
    region: str
    city: str
    latitude: float
    longitude: float
    utc_offset: int
    network: str
    weight: float


PLACES: tuple[Place, ...] = (
    Place("US", "New York", "New York", 40.7128, -74.006, -5, "24.40.0.0/14", 9),
    Place("US", "California", "San Francisco", 37.7749, -122.4194, -8, "12.36.0.0/14", 7),
    Place("US", "Illinois", "Chicago", 41.8781, -87.6298, -6, "68.60.0.0/14", 4),
    Place("US", "Texas", "Austin", 30.2672, -97.7431, -6, "71.84.0.0/14", 3),
    Place("US", "Washington", "Seattle", 47.6062, -122.3321, -8, "73.96.0.0/14", 3),
    Place("CA", "Ontario", "Toronto", 43.6532, -79.3832, -5, "99.224.0.0/14", 3),
    Place("BR", "São Paulo", "São Paulo", -23.5505, -46.6333, -3, "177.32.0.0/14", 3),
    Place("GB", "England", "London", 51.5074, -0.1278, 0, "81.4.0.0/14", 8),
    Place("GB", "England", "Manchester", 53.4808, -2.2426, 0, "86.128.0.0/14", 2),
    Place("IE", "Leinster", "Dublin", 53.3498, -6.2603, 0, "37.228.0.0/14", 1),
    Place("DE", "Land Berlin", "Berlin", 52.52, 13.405, 1, "46.80.0.0/14", 5),
    Place("DE", "Bavaria", "Munich", 48.1351, 11.582, 1, "84.128.0.0/14", 3),
    Place("FR", "Île-de-France", "Paris", 48.8566, 2.3522, 1, "90.84.0.0/14", 5),
    Place("NL", "North Holland", "Amsterdam", 52.3676, 4.9041, 1, "145.128.0.0/14", 3),
    Place("SE", "Stockholm County", "Stockholm", 59.3293, 18.0686, 1, "78.64.0.0/14", 2),
    Place("ES", "Madrid", "Madrid", 40.4168, -3.7038, 1, "88.24.0.0/14", 2),
    Place("IT", "Lombardy", "Milan", 45.4642, 9.19, 1, "93.40.0.0/14", 2),
    Place("PL", "Mazovia", "Warsaw", 52.2297, 21.0122, 1, "83.24.0.0/14", 2),
    Place("IN", "Karnataka", "Bengaluru", 12.9716, 77.5946, 5, "49.204.0.0/14", 4),
    Place("IN", "Maharashtra", "Mumbai", 19.076, 72.8777, 5, "106.192.0.0/14", 2),
    Place("JP", "Tokyo", "Tokyo", 35.6762, 139.6503, 9, "126.0.0.0/14", 3),
    Place("SG", "Singapore", "Singapore", 1.3521, 103.8198, 8, "116.88.0.0/14", 1),
    Place("AU", "New South Wales", "Sydney", -33.8688, 151.2093, 10, "101.160.0.0/14", 2),
    Place("NG", "Lagos", "Lagos", 6.5244, 3.3792, 1, "105.112.0.0/14", 1),
)

# Real user-agent strings with their share of visitors.
USER_AGENTS: tuple[tuple[str, float], ...] = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        24,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        12,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.5 Safari/605.1.15",
        6,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 5),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 3),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        5,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
        2,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        16,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        3,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.81 Mobile Safari/537.36",
        5,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.81 Mobile Safari/537.36",
        6,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        3,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        3,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.81 Safari/537.36",
        1,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
        1,
    ),
)

# Page paths and their titles. Blog and docs slugs are ordered by popularity.
BLOG_POSTS = (
    "cookieless-analytics-explained",
    "we-moved-to-clickhouse",
    "funnels-that-tell-the-truth",
    "retention-101",
    "self-hosting-on-a-raspberry-pi",
    "utm-tags-done-right",
    "why-bounce-rate-lies",
    "pricing-page-teardown",
    "gdpr-without-banners",
    "tracking-revenue",
    "a-year-of-open-source",
    "event-naming-conventions",
    "dashboards-people-read",
    "sampling-is-a-trap",
    "mobile-app-analytics",
    "the-cost-of-javascript",
    "benchmarking-ingest",
    "postmortem-march-outage",
)
DOCS_PAGES = (
    "getting-started",
    "installation",
    "web-sdk",
    "react",
    "nextjs",
    "track-events",
    "identify-users",
    "revenue",
    "api/export",
    "api/insights",
    "self-hosting",
    "faq",
)
FEATURES = ("funnels", "retention", "realtime", "dashboards", "integrations")


def page_title(path: str) -> str:
    """The document title a page of the site has."""
    if path == "/":
        return "Shop Analytics — product analytics without cookies"
    leaf = path.rstrip("/").rsplit("/", 1)[-1]
    return leaf.replace("-", " ").capitalize() + " · Shop Analytics"


# Where visits come from: (key, document.referrer choices, weight, landing kind, utm query).
@dataclass(frozen=True, slots=True)
class Source:
    key: str
    referrers: tuple[str, ...]
    weight: float
    landing: str  # a key of LANDINGS
    utm: tuple[str, ...] = ()  # query strings appended to the landing URL (one drawn)


SOURCES: tuple[Source, ...] = (
    Source("direct", ("",), 30, "direct"),
    Source("google", ("https://www.google.com/",), 26, "search"),
    Source("bing", ("https://www.bing.com/",), 3, "search"),
    Source("duckduckgo", ("https://duckduckgo.com/",), 2, "search"),
    Source("hackernews", ("https://news.ycombinator.com/",), 5, "blog"),
    Source("twitter", ("https://t.co/xK2mZ9q", "https://x.com/"), 5, "blog"),
    Source("reddit", ("https://www.reddit.com/r/analytics/", "https://www.reddit.com/"), 3, "blog"),
    Source("linkedin", ("https://www.linkedin.com/",), 2, "home"),
    Source("github", ("https://github.com/shop-example/sdk",), 3, "docs"),
    Source("chatgpt", ("https://chatgpt.com/",), 2, "home"),
    Source(
        "newsletter",
        ("", "https://mail.google.com/"),
        6,
        "blog",
        (
            "utm_source=newsletter&utm_medium=email&utm_campaign=weekly-digest",
            "utm_source=newsletter&utm_medium=email&utm_campaign=product-update",
        ),
    ),
    Source(
        "ads",
        ("https://www.google.com/",),
        6,
        "paid",
        (
            "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=analytics",
            "utm_source=google&utm_medium=cpc&utm_campaign=competitors&utm_term=ga4+alternative",
            "utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&utm_content=banner-b",
        ),
    ),
)
SPIKE_SOURCE = "hackernews"  # gets a front-page day (see Scenario.spike_day)

# Landing page kinds: (path, weight) — "@blog"/"@docs"/"@feature" draw a popular entry.
LANDINGS: dict[str, tuple[tuple[str, float], ...]] = {
    "direct": (("/", 60), ("/pricing", 12), ("@docs", 10), ("/login", 8), ("@blog", 10)),
    "search": (("@blog", 45), ("/", 25), ("@docs", 15), ("@feature", 10), ("/pricing", 5)),
    "blog": (("@blog", 85), ("/", 15)),
    "home": (("/", 70), ("/pricing", 15), ("@feature", 15)),
    "docs": (("@docs", 80), ("/", 20)),
    "paid": (("/pricing", 55), ("@feature", 25), ("/", 20)),
}

# Where a visitor goes next from a kind of page: (target, weight).
NEXT_PAGES: dict[str, tuple[tuple[str, float], ...]] = {
    "/": (("/pricing", 30), ("@feature", 25), ("/blog", 10), ("/docs", 12), ("/about", 5)),
    "/pricing": (("/", 15), ("@feature", 30), ("/docs", 15), ("/contact", 10), ("/about", 5)),
    "feature": (("@feature", 25), ("/pricing", 40), ("/", 15), ("/docs", 10)),
    "/blog": (("@blog", 80), ("/", 20)),
    "blog": (("@blog", 40), ("/blog", 20), ("/", 20), ("/pricing", 15), ("@docs", 5)),
    "/docs": (("@docs", 85), ("/pricing", 10), ("/", 5)),
    "docs": (("@docs", 70), ("/docs", 10), ("/pricing", 10), ("/changelog", 10)),
    "other": (("/", 40), ("/pricing", 30), ("/blog", 15), ("/docs", 15)),
}

# Outbound links clicked on blog and docs pages (link_out href, text).
OUTBOUND_LINKS = (
    ("https://github.com/shop-example/sdk", "GitHub"),
    ("https://clickhouse.com/docs", "ClickHouse docs"),
    ("https://x.com/shopexample", "Follow us"),
    ("https://www.npmjs.com/package/@openpanel/web", "npm package"),
)
DOCS_QUERIES = ("install", "revenue", "funnel", "api key", "self host", "nextjs", "retention")
PLANS = (("pro", 4900), ("team", 14900))  # plan, monthly price in cents (revenue is in cents)

FIRST_NAMES = (
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "José", "Zoë", "Łukasz", "Amara",
    "Chen", "Priya", "Sven", "Fatima", "Kenji", "Olivia", "Mateo", "Noor", "Ingrid", "Tomás",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "García", "Müller",
    "Kowalski", "Okafor", "Wang", "Sharma", "Larsson", "Haddad", "Tanaka", "Brown", "Silva",
    "Nakamura", "Berg", "O'Brien",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "fastmail.com", "acme.io", "example.org")
