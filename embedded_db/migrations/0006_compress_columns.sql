-- Smaller on disk (docs/benchmarks.md "Disk"): ZSTD for the high-cardinality strings and ids,
-- Delta for time, LowCardinality for city and referrer names. Existing parts are rewritten
-- (the LowCardinality changes) or recompressed as they merge.
ALTER TABLE openpanel.events
    MODIFY COLUMN id UUID CODEC(ZSTD(3)),
    MODIFY COLUMN device_id String CODEC(ZSTD(3)),
    MODIFY COLUMN profile_id String CODEC(ZSTD(3)),
    MODIFY COLUMN session_id String CODEC(ZSTD(3)),
    MODIFY COLUMN path String CODEC(ZSTD(3)),
    MODIFY COLUMN origin String CODEC(ZSTD(3)),
    MODIFY COLUMN referrer String CODEC(ZSTD(3)),
    MODIFY COLUMN referrer_name LowCardinality(String),
    MODIFY COLUMN properties Map(String, String) CODEC(ZSTD(3)),
    MODIFY COLUMN created_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    MODIFY COLUMN city LowCardinality(String),
    MODIFY COLUMN longitude Nullable(Float32) CODEC(ZSTD(3)),
    MODIFY COLUMN latitude Nullable(Float32) CODEC(ZSTD(3));

ALTER TABLE openpanel.sessions
    MODIFY COLUMN id String CODEC(ZSTD(3)),
    MODIFY COLUMN profile_id String CODEC(ZSTD(3)),
    MODIFY COLUMN device_id String CODEC(ZSTD(3)),
    MODIFY COLUMN created_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    MODIFY COLUMN ended_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    MODIFY COLUMN entry_path String CODEC(ZSTD(3)),
    MODIFY COLUMN exit_path String CODEC(ZSTD(3)),
    MODIFY COLUMN referrer String CODEC(ZSTD(3)),
    MODIFY COLUMN referrer_name LowCardinality(String),
    MODIFY COLUMN city LowCardinality(String),
    MODIFY COLUMN longitude Nullable(Float32) CODEC(ZSTD(3)),
    MODIFY COLUMN latitude Nullable(Float32) CODEC(ZSTD(3));

ALTER TABLE openpanel.profiles
    MODIFY COLUMN id String CODEC(ZSTD(3)),
    MODIFY COLUMN properties Map(String, String) CODEC(ZSTD(3)),
    MODIFY COLUMN created_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    MODIFY COLUMN last_seen_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3));
