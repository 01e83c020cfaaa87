"""The daemon's web pages, served by Starlette on uvicorn inside the daemon's event loop.

Why Starlette and uvicorn (and not the hand-written `http.server` handler this replaces):
HTTP parsing is done by h11, a strict, well-tested parser that answers a malformed request
line or header (`Content-Length: abc`, `Content-Length: -1`) with 400 before any of our code
runs, where the old handler crashed or skipped its own body limit. Starlette is a small ASGI
toolkit (routing, responses, middleware) with no ORM or template engine of its own, so the
pages use the Jinja2 and SQLAlchemy the project already has. uvicorn's `Server.serve()` is a
coroutine: the daemon awaits it as one more task in its own asyncio loop, beside the
APScheduler jobs, with no thread and no second process; the scheduler's loop also stops it.
Litestar or hypercorn would do as well; Starlette + uvicorn is the smallest stack of the four
with the widest use.
"""

from monitor.web.app import WebContext, make_app
from monitor.web.server import RunningServer, WebServer, serve_in_thread

__all__ = ["RunningServer", "WebContext", "WebServer", "make_app", "serve_in_thread"]
