-- One row per visit; the pipeline writes a new version whenever the visit changes and the
-- newest version wins (ReplacingMergeTree), so queries read `FINAL` (or argMax by version).
-- created_at (the visit's start) never changes after the first write, so it can sit in the key.
CREATE TABLE IF NOT EXISTS openpanel.sessions
(
    id String,
    project_id String,
    profile_id String,
    device_id String,
    created_at DateTime64(3, 'UTC'),
    ended_at DateTime64(3, 'UTC'),
    is_bounce Bool,
    entry_origin LowCardinality(String),
    entry_path String,
    exit_origin LowCardinality(String),
    exit_path String,
    screen_view_count Int32,
    revenue Float64,
    event_count Int32,
    duration UInt32,
    country LowCardinality(String),
    region LowCardinality(String),
    city String,
    longitude Nullable(Float32),
    latitude Nullable(Float32),
    device LowCardinality(String),
    brand LowCardinality(String),
    model LowCardinality(String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    utm_medium String,
    utm_source String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    referrer String,
    referrer_name String,
    referrer_type LowCardinality(String),
    groups Array(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, toDate(created_at), created_at, id)
SETTINGS non_replicated_deduplication_window = 10000;
