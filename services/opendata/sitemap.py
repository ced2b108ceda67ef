"""For search engines: the sitemap (sitemaps.org 0.9) of every published procedure, agency and
lĩnh vực with the date each last changed, and robots.txt."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from sqlalchemy import func, select

from ..db import db
from ..models import (
    Agency,
    Field,
    Journey,
    Procedure,
    ProcedureAgency,
    Role,
    Status,
    procedure_field,
)
from ..printing import page_url

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _latest_by(column, join_on, *where) -> dict[int, datetime]:
    rows = db.session.execute(
        select(column, func.max(Procedure.updated_at))
        .join(Procedure, join_on)
        .where(Procedure.status == Status.PUBLISHED, *where)
        .group_by(column)
    )
    return dict(rows.all())


def _url(root: ET.Element, location: str, lastmod: datetime | None) -> None:
    url = ET.SubElement(root, f"{{{SITEMAP}}}url")
    ET.SubElement(url, f"{{{SITEMAP}}}loc").text = location
    if lastmod is not None:
        ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = lastmod.date().isoformat()


def sitemap_xml(base: str) -> bytes:
    """The sitemap: home and index pages, agencies, lĩnh vực, published procedures and
    journeys."""
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    procedures = db.session.execute(
        select(Procedure.code, Procedure.updated_at)
        .where(Procedure.status == Status.PUBLISHED)
        .order_by(Procedure.code)
    ).all()
    newest = max((updated for _, updated in procedures), default=None)
    for endpoint in ("public.index", "public.agencies", "public.fields", "journeys.journeys"):
        _url(root, page_url(base, endpoint), newest)
    by_agency = _latest_by(
        ProcedureAgency.agency_id,
        Procedure.id == ProcedureAgency.procedure_id,
        ProcedureAgency.role == Role.IMPLEMENTING,
    )
    for agency_id, slug in db.session.execute(select(Agency.id, Agency.slug).order_by(Agency.slug)):
        _url(root, page_url(base, "public.agency", slug=slug), by_agency.get(agency_id))
    by_field = _latest_by(
        procedure_field.c.field_id, Procedure.id == procedure_field.c.procedure_id
    )
    for field_id, slug in db.session.execute(select(Field.id, Field.slug).order_by(Field.slug)):
        _url(root, page_url(base, "public.field", slug=slug), by_field.get(field_id))
    for code, updated in procedures:
        _url(root, page_url(base, "public.procedure", code=code), updated)
    journeys = db.session.execute(
        select(Journey.slug, Journey.updated_at)
        .where(Journey.published.is_(True))
        .order_by(Journey.slug)
    )
    for slug, updated in journeys:
        _url(root, page_url(base, "journeys.journey", slug=slug), updated)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def robots_txt(sitemap: str | None) -> str:
    """robots.txt: crawlers stay out of the staff area, search result pages and PDFs; the
    sitemap is named when the base URL is known (robots.txt needs an absolute URL)."""
    lines = [
        "User-agent: *",
        "Disallow: /staff/",
        "Disallow: /tim-kiem",
        "Disallow: /*.pdf$",
        "Allow: /",
    ]
    if sitemap:
        lines += ["", f"Sitemap: {sitemap}"]
    return "\n".join(lines) + "\n"
