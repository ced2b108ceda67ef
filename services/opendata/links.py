"""Absolute links for machines, rooted at the base URL configured in the site settings, never at
the Host header of the request (a forged Host must not end up in feeds, sitemaps or JSON-LD)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from ..errors import ValidationError
from ..printing import configured_base, page_url

__all__ = ["NoBaseUrl", "configured_base", "link", "required_base"]


class NoBaseUrl(ValidationError):
    """No base URL is configured, so what needs absolute links cannot be made (views answer
    503: the server, not the request, lacks something)."""


def required_base(what: str) -> str:
    """The configured base URL; without one, log why `what` cannot be made and raise
    NoBaseUrl with a message for the reader."""
    base = configured_base()
    if base is None:
        current_app.logger.warning("no base_url in the site settings: %s not produced", what)
        raise NoBaseUrl(
            _(
                "Chưa đặt địa chỉ trang thông tin (base_url) trong phần Cài đặt nên chưa tạo "
                "được %(what)s.",
                what=what,
            )
        )
    return base


def link(base: str | None, endpoint: str, **values: str) -> str:
    """The absolute URL of `endpoint` under `base`; a path from the root without one."""
    if base is None:
        return url_for(endpoint, **values)
    return page_url(base, endpoint, **values)
