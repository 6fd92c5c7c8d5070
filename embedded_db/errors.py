"""One small, flat error hierarchy for the whole appliance, rooted at AppError.

It lives in the lowest layer so every package can raise and catch the same classes.
"""


class AppError(Exception):
    """Base of every error the appliance raises on purpose."""


class ConfigError(AppError):
    """A setting or a start-up precondition is wrong; raised before serving."""


class StoreError(AppError):
    """The event store or the metadata store failed."""


class NotFoundError(AppError):
    """A project, client or other named thing does not exist."""


class ValidationError(AppError):
    """Input that cannot be accepted; `field` names the offending field (dot path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
