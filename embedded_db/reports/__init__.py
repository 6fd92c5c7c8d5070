"""One small module per report (Umami's `src/queries/` is the model): each takes the store and a
validated query and returns plain data; the web layer only serialises it."""
