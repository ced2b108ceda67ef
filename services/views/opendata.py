"""What machines read beside the pages: /sitemap.xml, /robots.txt and the Atom feeds of
published changes (/thay-doi.atom, one per agency and per lĩnh vực); the template helpers for
the canonical link, sharing tags and JSON-LD of the pages; conditional requests for every
response (services.views.caching), wired when this blueprint is registered.

Every absolute URL comes from the base URL in the site settings, never from the Host header.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _

from ..catalogue import queries
from ..labels import money, time_limit
from ..models import Agency, Procedure
from ..opendata import changes, feeds, schema_org, sitemap
from ..opendata.links import NoBaseUrl, configured_base, required_base
from ..printing import page_url
from . import caching, language

bp = Blueprint("opendata", __name__)

ATOM = "application/atom+xml"
SUMMARY_LENGTH = 200


@bp.record_once
def _wire(state) -> None:
    caching.init_app(state.app)


def _base() -> str | None:
    """The configured base URL, read once a request."""
    if "opendata_base" not in g:
        g.opendata_base = configured_base()
    return g.opendata_base


def _unavailable(error: NoBaseUrl) -> Response:
    return Response(str(error) + "\n", status=503, mimetype="text/plain")


@bp.get("/robots.txt")
def robots():
    base = _base()
    text = sitemap.robots_txt(page_url(base, "opendata.sitemap_xml") if base else None)
    return Response(text, mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap_xml():
    try:
        base = required_base(_("sơ đồ trang (sitemap)"))
    except NoBaseUrl as error:
        return _unavailable(error)
    return Response(sitemap.sitemap_xml(base), mimetype="application/xml")


def _feed(title: str, page: str, endpoint: str, slug: str | None = None, **filters: str):
    """The Atom feed of the changes `filters` select, following `page` (with `slug`)."""
    try:
        base = required_base(_("nguồn tin Atom"))
    except NoBaseUrl as error:
        return _unavailable(error)
    site = queries.get_settings()
    feed = feeds.Feed(
        title=title,
        page=page_url(base, page, **({"slug": slug} if slug else {})),
        address=page_url(base, endpoint, **({"slug": slug} if slug else {})),
    )
    entries = changes.recent(feeds.FEED_LENGTH, **filters)
    publisher = site.portal_name or _("Thủ tục hành chính")
    return Response(feeds.atom(feed, entries, base, publisher), mimetype=ATOM)


@bp.get("/thay-doi.atom")
def changes_feed():
    site = queries.get_settings()
    title = _("Thay đổi thủ tục hành chính – %(site)s", site=site.portal_name or site.locality)
    return _feed(title, "public.index", "opendata.changes_feed")


@bp.get("/co-quan/<slug>/thay-doi.atom")
def agency_feed(slug: str):
    agency = queries.get_agency(slug)
    title = _("Thay đổi thủ tục của %(agency)s", agency=agency.name)
    return _feed(title, "public.agency", "opendata.agency_feed", slug, agency=agency.slug)


@bp.get("/linh-vuc/<slug>/thay-doi.atom")
def field_feed(slug: str):
    field = queries.get_field(slug)
    title = _("Thay đổi thủ tục lĩnh vực %(field)s", field=field.name)
    return _feed(title, "public.field", "opendata.field_feed", slug, field=field.slug)


# --- for the pages' <head> ----------------------------------------------------------------------


@bp.app_template_global()
def canonical_url() -> str | None:
    """This page's address without its query but the language it was asked in (`?lang=`, so
    each language's page is its own canonical): absolute under the base URL, a path without."""
    if request.endpoint is None or request.url_rule is None:
        return None
    chosen = language.chosen_on_url()
    base = _base()
    if base is None:
        return language.page_in(chosen) if chosen else request.path
    values = dict(request.view_args or {}, **({language.PARAMETER: chosen} if chosen else {}))
    return page_url(base, request.endpoint, **values)


@bp.app_template_global()
def structured_data(subject: Procedure | Agency) -> dict[str, Any] | None:
    """The schema.org JSON-LD of a procedure's or an agency's page; None (logged) when no base
    URL is configured, since JSON-LD needs absolute links."""
    base = _base()
    if base is None:
        current_app.logger.warning(
            "no base_url in the site settings: no JSON-LD on %s", request.path
        )
        return None
    if isinstance(subject, Procedure):
        return schema_org.procedure_document(subject, queries.get_settings(), base)
    return schema_org.agency_document(subject, base)


@bp.app_template_global()
def share_summary(procedure: Procedure) -> str:
    """What a shared link to a procedure shows under its name: the agency and a summary."""
    parts = []
    agency = procedure.main_agency
    if agency is not None:
        parts.append(agency.display_name)
    if procedure.description:
        parts.append(procedure.description)
    else:
        for channel in procedure.channels[:1]:
            limit = time_limit(channel.time_limit_value, channel.time_limit_unit)
            if limit:
                parts.append(_("Thời hạn giải quyết: %(t)s", t=limit))
            if channel.fee_amount is not None:
                parts.append(_("Phí, lệ phí: %(f)s", f=money(channel.fee_amount)))
    text = " · ".join(parts)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"
