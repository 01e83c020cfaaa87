"""Rendering pages: Jinja2 templates shipped in the package, autoescaped, one stylesheet of our own."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from monitor.digest.render import format_event_date, safe_href, type_in_words


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("monitor.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["type_words"] = type_in_words
    env.filters["event_date"] = format_event_date
    env.filters["safe_href"] = safe_href
    return env


def page(template: str, code: int = 200, /, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=code)


def message(title: str, text: str, status: int = 200) -> HTMLResponse:
    return page("message.html.j2", status, title=title, text=text)


@lru_cache(maxsize=1)
def _stylesheet() -> bytes:
    return files("monitor.web").joinpath("static/style.css").read_bytes()


async def stylesheet(_request: Request) -> Response:
    return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})
