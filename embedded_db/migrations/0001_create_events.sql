-- Events, in OpenPanel's column semantics (openpanel-compat.md §3.1). Times are UTC.
CREATE TABLE IF NOT EXISTS openpanel.events
(
    id UUID,
    name LowCardinality(String),
    sdk_name LowCardinality(String),
    sdk_version LowCardinality(String),
    device_id String,
    profile_id String,
    project_id String,
    session_id String,
    groups Array(String),
    path String,
    origin String,
    referrer String,
    referrer_name String,
    referrer_type LowCardinality(String),
    revenue UInt64,
    duration UInt64,
    properties Map(String, String),
    created_at DateTime64(3, 'UTC'),
    country LowCardinality(String),
    city String,
    region LowCardinality(String),
    longitude Nullable(Float32),
    latitude Nullable(Float32),
    os LowCardinality(String),
    os_version LowCardinality(String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    device LowCardinality(String),
    brand LowCardinality(String),
    model LowCardinality(String),
    imported_at Nullable(DateTime('UTC')),
    INDEX idx_name name TYPE bloom_filter GRANULARITY 1,
    INDEX idx_path path TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_origin origin TYPE bloom_filter(0.05) GRANULARITY 1,
    INDEX idx_profile profile_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, toDate(created_at), created_at, name)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS openpanel.events_bots
(
    id UUID,
    project_id String,
    name String,
    type String,
    path String,
    created_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (project_id, created_at)
SETTINGS non_replicated_deduplication_window = 10000;
