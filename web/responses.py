"""Small response helpers shared by the API controllers (JSON errors in OpenPanel's shape)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Response

from embedded_db.errors import ValidationError

_json = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Reply:
    """A framework-free response (status, media type, body) from the ingest core."""

    status: int
    media_type: str
    body: bytes

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status, "application/json", _json.encode(data))

    @classmethod
    def text(cls, text: str, status: int) -> Reply:
        return cls(status, "text/plain; charset=utf-8", text.encode())

    @classmethod
    def error(cls, status: int, message: str, **extra: Any) -> Reply:
        body = {"status": status, "error": HTTPStatus(status).phrase, "message": message, **extra}
        return cls.json(body, status)

    @classmethod
    def bad_request(cls, exc: ValidationError) -> Reply:
        return cls.error(400, str(exc), field=exc.field)

    def response(self) -> Response[bytes]:
        return Response(self.body, status_code=self.status, media_type=self.media_type)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        _json.encode(data), status_code=status, media_type="application/json", headers=headers
    )


def text_response(text: str, status: int) -> Response[bytes]:
    return Reply.text(text, status).response()


def error_response(status: int, message: str, **extra: Any) -> Response[bytes]:
    """`{status, error, message}` with the matching HTTP status."""
    return Reply.error(status, message, **extra).response()


def bad_request(exc: ValidationError) -> Response[bytes]:
    return Reply.bad_request(exc).response()
