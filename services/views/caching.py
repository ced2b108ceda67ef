"""Conditional requests, one mechanism for every public response: a GET or HEAD answered 200 gets
a strong ETag of its body (unless it has one, as sent files do) and becomes 304 Not Modified
when the client already holds it. Staff pages are never stored by caches (`no-store`)."""

from __future__ import annotations

from flask import Flask, Response, request

STAFF = "/staff"


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
        response.add_etag()
    return response.make_conditional(request)
