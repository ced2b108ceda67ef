"""HTTP caching, one mechanism for every public response: a GET or HEAD answered 200 gets a strong
ETag of its body (unless it has one, as sent files do) and becomes 304 Not Modified when the
client already holds it, and may be kept by browsers and shared caches for a short while
(`HTTP_CACHE_CONTROL`, by default a minute, then served stale for five more while it is
revalidated), varying with the language asked for and the cookie sent. A response that belongs
to one visitor (it sets a cookie, shows a flash message or reads a signed-in session), and a
search with words (an entry of the search log, which a cached copy would not make), is
`private, no-cache`; staff pages are never stored by caches (`no-store`).

The ETag leaves out the value of CSRF tokens (the page feedback form on every procedure page
has one): it is signed anew on every request, yet any token of the visitor's session stays valid,
so a page that differs only by it is the same page to that visitor."""

from __future__ import annotations

import hashlib
import re

from flask import Flask, Response, current_app, g, request, session

STAFF = "/staff"
PUBLIC = "public, max-age=60, stale-while-revalidate=300"
PRIVATE = "private, no-cache"
_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*?value=")[^"]*"')


def init_app(app: Flask) -> None:
    app.config.setdefault("HTTP_CACHE_CONTROL", PUBLIC)
    app.after_request(conditional)


def conditional(response: Response) -> Response:
    """Add the ETag and answer 304 when it matches; say who may keep the response."""
    if request.path == STAFF or request.path.startswith(STAFF + "/"):
        response.headers["Cache-Control"] = "no-store"
        return response
    if request.method not in ("GET", "HEAD") or response.status_code not in (200, 304):
        return response
    if request.endpoint != "static":  # static files keep their own (nginx serves them)
        _cache_control(response)
    if response.status_code == 304:  # a sent file's own conditional answer
        return response
    if response.direct_passthrough or response.is_streamed:
        return response  # a file sent by send_file carries its own ETag and conditional answer
    if "ETag" not in response.headers:
        body = _CSRF_VALUE.sub(rb'\1"', response.get_data())
        response.set_etag(hashlib.sha1(body).hexdigest())
    return response.make_conditional(request)


def _cache_control(response: Response) -> None:
    response.vary.update(("Accept-Language", "Cookie"))
    personal = (
        "Set-Cookie" in response.headers
        or session.modified
        or bool(session)
        or g.get("search_logged", False)  # a cached copy would never reach the search log
    )
    response.headers["Cache-Control"] = (
        PRIVATE if personal else current_app.config["HTTP_CACHE_CONTROL"]
    )
