-- Latest version of a profile wins (ReplacingMergeTree on last_seen_at).
CREATE TABLE IF NOT EXISTS openpanel.profiles
(
    id String,
    is_external Bool,
    first_name String,
    last_name String,
    email String,
    avatar String,
    properties Map(String, String),
    project_id String,
    groups Array(String),
    created_at DateTime64(3, 'UTC'),
    last_seen_at DateTime64(3, 'UTC'),
    INDEX idx_email email TYPE bloom_filter GRANULARITY 1
)
ENGINE = ReplacingMergeTree(last_seen_at)
ORDER BY (project_id, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS openpanel.groups
(
    id String,
    project_id String,
    type String,
    name String,
    properties Map(String, String),
    created_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS openpanel.session_replay_chunks
(
    project_id String,
    session_id String,
    chunk_index UInt16,
    started_at DateTime64(3, 'UTC'),
    ended_at DateTime64(3, 'UTC'),
    events_count UInt16,
    is_full_snapshot Bool,
    payload String CODEC(ZSTD(6))
)
ENGINE = MergeTree
PARTITION BY toDate(started_at)
ORDER BY (project_id, session_id, chunk_index)
TTL toDateTime(started_at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000;
