"""Benchmarks against docs/performance-targets.md; run them as scripts (see bench/README.md)."""
