"""Imports of event files: DuckDB reads and normalizes a file into staged rows, enriches them
by distinct value with the live pipeline's parsers and writes the rows to store as one Parquet
file; chDB builds the visits from it with window SQL under the live rules and inserts the result
chunk by chunk with deduplication tokens.

Modules: `scan` (content hash, line-length guard), `sniff` (format detection), `duck` (the
DuckDB connection and clear errors), `canonical` (the staged columns), `readers` / `vendors` /
`accesslog` / `formats` (one mapping per format), `enrich` (per-distinct-value lookups),
`sessionize` (the storable rows, written for chDB), `visits` (visits, visit events, sessions and
profiles in chDB, inserted per chunk), `loader` (profile merge, rollback), `ledger` (idempotent,
resumable state in meta.db).
"""
