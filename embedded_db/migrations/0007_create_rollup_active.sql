-- Who was active in each hour (docs/design.md "Rollups"): one row per visitor with any event
-- other than the synthetic session_start/session_end in the hour. A visitor is a 64-bit hash
-- of the events' `profile_id` (retention groups by it; the table holds no ids). Retention's
-- default question (any event starts the cohort, any event returns) reads these rows instead
-- of every event. Versioned like the other rollups.
CREATE TABLE IF NOT EXISTS openpanel.rollup_active
(
    project_id String,
    hour DateTime('UTC') CODEC(Delta, ZSTD(3)),
    visitor UInt64 CODEC(ZSTD(3)),
    version UInt64 CODEC(Delta, ZSTD(3))
)
ENGINE = MergeTree
ORDER BY (project_id, hour, visitor);

-- Hours rolled before this table existed have no rows in it: mark them dirty, so the rollup
-- worker computes them again (all rollups, at a new version) on its next turn.
INSERT INTO openpanel.rollup_hours (project_id, hour, state, version)
SELECT project_id, hour, 0, toUInt64(toUnixTimestamp64Nano(now64(9)))
FROM openpanel.rollup_hours FINAL
WHERE state = 1;
