"""Imports of event files: DuckDB reads and normalizes a file into staged rows, enriches them
by distinct value with the live pipeline's parsers, builds visits with window SQL under the live
rules, and chDB inserts the result chunk by chunk with deduplication tokens.

Modules: `scan` (content hash, line-length guard), `sniff` (format detection), `duck` (the
DuckDB connection and clear errors), `canonical` (the staged columns), `readers` / `vendors` /
`accesslog` / `formats` (one mapping per format), `enrich` (per-distinct-value lookups),
`sessionize` (visits, visit events and profiles in SQL), `loader` (chDB inserts, profile merge,
rollback), `ledger` (idempotent, resumable state in meta.db).
"""
