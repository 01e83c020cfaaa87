"""The case pages and their JSON twins: /cases, /cases/{id}, /developments/{id}, /api/...

A timeline interleaves the baseline's events with the developments the monitor found, by
date; each development shows its type, date and precision, the entry that first reported it
and every other source ("reported by N outlets"; one outlet is marked single-source) and
the judge's short `why`. Filters: `type` (repeatable) and a period, `from` and `to`
(YYYY, YYYY-MM or YYYY-MM-DD, inclusive).
"""

from __future__ import annotations

import asyncio
import calendar
import re
import time
from collections import deque
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from monitor.model import TYPE_WORDS
from monitor.store import suppressions, views
from monitor.web.auth import COOKIE, Viewer, check_password, session_cookie, viewer
from monitor.web.context import WebContext
from monitor.web.pages import message, page

LOGIN_ATTEMPTS = 10  # wrong passwords in LOGIN_WINDOW seconds before logins pause
LOGIN_WINDOW = 60.0
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


class BadFilter(ValueError):
    pass


def _bound(text: str, end: bool) -> date | None:
    if not text:
        return None
    found = _PERIOD.fullmatch(text.strip())
    if not found:
        raise BadFilter(f"not a date: {text!r} (YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(found[1]), int(found[2] or (12 if end else 1)), found[3]
    try:
        last = calendar.monthrange(year, month)[1]
        return date(year, month, int(day) if day else (last if end else 1))
    except ValueError as exc:
        raise BadFilter(f"not a date: {text!r}") from exc


def _filters(request: Request) -> dict[str, Any]:
    types = [t for t in request.query_params.getlist("type") if t]
    unknown = [t for t in types if t not in TYPE_WORDS]
    if unknown:
        raise BadFilter(f"unknown type {unknown[0]!r}")
    return {"types": types, "since": _bound(request.query_params.get("from", ""), False),
            "until": _bound(request.query_params.get("to", ""), True)}


async def _viewer(request: Request) -> Viewer | None:
    ctx: WebContext = request.app.state.ctx
    suppressed: frozenset[str] = frozenset()
    if ctx.public and request.query_params.get("t"):
        suppressed = frozenset(await asyncio.to_thread(suppressions.suppressed_emails, ctx.engine))
    return viewer(request, suppressed)


def _refused(api: bool) -> Response:
    if api:
        return JSONResponse({"error": "a signed link or an operator login is needed"}, status_code=403)
    return page("login.html.j2", 403, title="Sign in", error="",
                text="These pages need the link from your digest, or an operator login.")


def _missing(api: bool, what: str) -> Response:
    if api:
        return JSONResponse({"error": f"no such {what}"}, status_code=404)
    return message("Not found", f"No such {what}.", 404)


def _cases(ctx: WebContext, who: Viewer) -> dict[str, tuple[str, str]]:
    config = ctx.config_of()
    if config is None:
        return {}
    return {cid: (case.title, case.status) for cid, case in sorted(config.cases.items()) if who.may_see(cid)}


async def cases_index(request: Request) -> Response:
    api = request.url.path.startswith("/api/")
    who = await _viewer(request)
    if who is None:
        return _refused(api)
    ctx: WebContext = request.app.state.ctx
    rows = await asyncio.to_thread(views.case_summaries, ctx.engine, _cases(ctx, who))
    if api:
        return JSONResponse({"cases": [vars(r) for r in rows]})
    return page("cases.html.j2", title="Cases", cases=rows, q=who.query)


async def case_page(request: Request) -> Response:
    api = request.url.path.startswith("/api/")
    who = await _viewer(request)
    if who is None:
        return _refused(api)
    ctx: WebContext = request.app.state.ctx
    case_id = request.path_params["case_id"]
    known = _cases(ctx, who)
    if case_id not in known:
        return _refused(api) if ctx.public and not who.operator else _missing(api, "case")
    try:
        filters = _filters(request)
    except BadFilter as exc:
        if api:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return message("Bad filter", str(exc), 400)
    rows = await asyncio.to_thread(views.timeline, ctx.engine, case_id, types=filters["types"],
                                   since=filters["since"], until=filters["until"])
    title, status = known[case_id]
    if api:
        return JSONResponse({"id": case_id, "title": title, "status": status,
                             "filters": {"type": filters["types"], "from": request.query_params.get("from"),
                                         "to": request.query_params.get("to")},
                             "timeline": [views.as_json(r) for r in rows]})
    used = sorted({r.type for r in rows} | set(filters["types"]))
    return page("case.html.j2", title=title, case_id=case_id, status=status, rows=rows, q=who.query,
                token=who.token, types=sorted(TYPE_WORDS), chosen=set(filters["types"]), used=used,
                since=request.query_params.get("from", ""), until=request.query_params.get("to", ""),
                api=f"/api/cases/{case_id}?" + urlencode([("t", who.token)] * bool(who.token)
                                                          + [("type", t) for t in filters["types"]]))


async def development_page(request: Request) -> Response:
    api = request.url.path.startswith("/api/")
    who = await _viewer(request)
    if who is None:
        return _refused(api)
    ctx: WebContext = request.app.state.ctx
    raw = request.path_params["development_id"]
    row = await asyncio.to_thread(views.development, ctx.engine, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    known = _cases(ctx, who)
    if row is None or row.case_id not in known:
        if row is not None and ctx.public and not who.operator:
            return _refused(api)
        return _missing(api, "development")
    if api:
        return JSONResponse(views.as_json(row))
    return page("development.html.j2", title=f"{row.type.replace('_', ' ').capitalize()}, {known[row.case_id][0]}",
                d=row, case_title=known[row.case_id][0], q=who.query)


async def login(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    if request.method == "GET":
        return page("login.html.j2", title="Sign in", error="", text="Operator login.")
    failures: deque[float] = ctx.extra.setdefault("login_failures", deque())
    now = time.monotonic()
    while failures and failures[0] < now - LOGIN_WINDOW:
        failures.popleft()
    if len(failures) >= LOGIN_ATTEMPTS:  # guessing: every login waits, whoever asks
        return page("login.html.j2", 429, title="Sign in", error="Too many wrong passwords; wait a minute.",
                    text="Operator login.")
    body: bytes = request.scope.get("state", {}).get("body", b"")
    password = parse_qs(body.decode("utf-8", "replace")).get("password", [""])[0]
    ok = await asyncio.to_thread(check_password, ctx.operator_hash, password)
    if not ok:
        failures.append(now)
        return page("login.html.j2", 401, title="Sign in", error="Wrong password, or no operator password is set.",
                    text="Operator login.")
    value, max_age = session_cookie(ctx)
    response = RedirectResponse("/cases", status_code=303)
    response.set_cookie(COOKIE, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response
