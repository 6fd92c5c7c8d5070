-- alias(profileId, alias) calls, kept for identity stitching (upstream answers 400 and drops them).
CREATE TABLE IF NOT EXISTS openpanel.profile_aliases
(
    project_id String,
    profile_id String,
    alias String,
    created_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (project_id, profile_id, alias)
SETTINGS non_replicated_deduplication_window = 10000;
