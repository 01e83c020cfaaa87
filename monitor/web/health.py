"""/healthz and /metrics: for machines; counts and times only, no names."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.store import views
from monitor.web.context import WebContext


async def healthz(request: Request) -> Response:
    """200 when the database answers; `?max_poll_age=SECONDS` also makes a stale poll 503."""
    ctx: WebContext = request.app.state.ctx
    try:
        await asyncio.to_thread(views.ping, ctx.engine)
        last = await asyncio.to_thread(views.last_successful_poll, ctx.engine)
    except Exception as exc:
        return JSONResponse({"status": "error", "database": f"unreachable: {type(exc).__name__}"}, status_code=503)
    age = (ctx.clock() - last).total_seconds() if last else None
    body = {"status": "ok", "database": "ok",
            "last_successful_poll": last.isoformat() if last else None,
            "last_successful_poll_age_seconds": round(age, 3) if age is not None else None}
    limit = request.query_params.get("max_poll_age", "")
    if limit.isdigit() and (age is None or age > int(limit)):
        body["status"] = "stale"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def metrics(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    if ctx.metrics is None:
        return Response("metrics are served by the daemon\n", status_code=404, media_type="text/plain")
    data = await asyncio.to_thread(ctx.metrics.exposition)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
