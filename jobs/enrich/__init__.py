"""Per-event enrichment: client IP, geo, device, bots, referrer, URL split, property flattening.

Pure and cheap functions and small classes (data loaded in constructors, results memoised);
nothing here imports the web framework, the job queue or the storage layer.
"""
