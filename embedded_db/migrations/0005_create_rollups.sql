-- Hourly rollups (docs/design.md "Rollups"). Rows are recomputed from the raw tables by the
-- rollup worker; each computation carries a version, and `rollup_hours` says which version of
-- an hour is valid (state 1) or that the hour changed since (state 0, "dirty"). Reports read a
-- rolled hour only at its valid version and read everything else raw, so a rollup can never
-- disagree with the raw tables.
CREATE TABLE IF NOT EXISTS openpanel.rollup_hours
(
    project_id String,
    hour DateTime('UTC'),
    state UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, hour);

-- Visits per hour of their start, in total (dimension '') and per visit dimension value
-- (referrer, utm_*, geo, device, browser, os, entry and exit pages). Revenue rows (dimension '',
-- from `revenue` events by the hour of the event) carry only `revenue`.
CREATE TABLE IF NOT EXISTS openpanel.rollup_visits
(
    project_id String,
    hour DateTime('UTC'),
    dimension LowCardinality(String),
    value String,
    prefix String,
    sessions UInt64,
    screen_views Int64,
    bounces UInt64,
    duration_sum UInt64,
    duration_count UInt64,
    visitors AggregateFunction(uniq, String),
    revenue UInt64,
    version UInt64
)
ENGINE = MergeTree
ORDER BY (project_id, dimension, hour, value);

-- Page views per hour and page (origin + path), with the visits that viewed it.
CREATE TABLE IF NOT EXISTS openpanel.rollup_pages
(
    project_id String,
    hour DateTime('UTC'),
    origin String,
    path String,
    pageviews UInt64,
    sessions AggregateFunction(uniq, String),
    version UInt64
)
ENGINE = MergeTree
ORDER BY (project_id, hour, origin, path);
