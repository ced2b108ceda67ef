"""Conditional requests, one mechanism for every public response: a GET or HEAD answered 200 gets
a strong ETag of its body (unless it has one, as sent files do) and becomes 304 Not Modified
when the client already holds it. Staff pages are never stored by caches (`no-store`).

The ETag leaves out the value of CSRF tokens (the page feedback form on every procedure page
has one): it is signed anew on every request, yet any token of the visitor's session stays valid,
so a page that differs only by it is the same page to that visitor."""

from __future__ import annotations

import hashlib
import re

from flask import Flask, Response, request

STAFF = "/staff"
_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*?value=")[^"]*"')


def init_app(app: Flask) -> None:
    app.after_request(conditional)


def conditional(response: Response) -> Response:
    """Add the ETag and answer 304 when it matches; keep staff pages out of caches."""
    if request.path == STAFF or request.path.startswith(STAFF + "/"):
        response.headers["Cache-Control"] = "no-store"
        return response
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if response.direct_passthrough or response.is_streamed:
        return response  # a file sent by send_file carries its own ETag and conditional answer
    if "ETag" not in response.headers:
        body = _CSRF_VALUE.sub(rb'\1"', response.get_data())
        response.set_etag(hashlib.sha1(body).hexdigest())
    return response.make_conditional(request)
