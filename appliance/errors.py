"""Re-export of the project's error hierarchy for the composition root."""

from embedded_db.errors import AppError, ConfigError, NotFoundError, StoreError

__all__ = ["AppError", "ConfigError", "NotFoundError", "StoreError"]
