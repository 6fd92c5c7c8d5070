"""The baseline of `bench/ingest.py`: a bare Litestar app whose one `POST /track` handler only
decodes and validates the body with the appliance's own msgspec structs, then answers with fixed
ids. Served by uvicorn with the settings of `appliance/server.py` (one worker, loop and http
"auto", no access log), so the ratio measures what the appliance adds on top of the framework.

    python bench/bare_app.py --port 8001
"""

from __future__ import annotations

import argparse
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, post

from web.ingest_schema import AnyEnvelope

_IDS = b'{"deviceId":"x","sessionId":"y"}'


@post("/track", status_code=200)
async def track(request: Request[Any, Any, Any]) -> Response[bytes]:
    body = await request.body()
    try:
        msgspec.json.decode(body, type=AnyEnvelope)  # envelope and payload, one pass
    except msgspec.DecodeError as exc:
        return Response(str(exc).encode(), status_code=400, media_type="text/plain")
    return Response(_IDS, media_type="application/json")


def create_app() -> Litestar:
    return Litestar(route_handlers=[track], logging_config=None, openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        lifespan="on",
        log_level="warning",
        access_log=False,
        loop="auto",
        http="auto",
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
