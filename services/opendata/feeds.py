"""Atom feeds (RFC 4287) of the record of published changes: the whole catalogue's, one
agency's, one lĩnh vực's. Each entry says in words what changed; abolitions say so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

from flask_babel import gettext as _
from sqlalchemy import select

from ..catalogue.records import format_timestamp
from ..db import db
from ..models import Agency, CatalogueChange
from ..printing import page_url

ATOM = "http://www.w3.org/2005/Atom"
FEED_LENGTH = 50
EPOCH = datetime(1970, 1, 1)


@dataclass
class Feed:
    """What one feed is about: its title, the page it follows and its own address."""

    title: str
    page: str
    address: str


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _author(parent: ET.Element, name: str) -> None:
    _add(_add(parent, "author"), "name", name)


def _title(entry: CatalogueChange) -> str:
    if entry.kind == "abolished":
        return _("Bãi bỏ: %(name)s (%(code)s)", name=entry.name, code=entry.code)
    return _("Cập nhật: %(name)s (%(code)s)", name=entry.name, code=entry.code)


def _agency_names() -> dict[str, str]:
    return dict(db.session.execute(select(Agency.slug, Agency.name)).all())


def _entry_author(entry: CatalogueChange, names: dict[str, str], fallback: str) -> str:
    slugs = entry.agencies.split()
    return names.get(slugs[0], fallback) if slugs else fallback


def atom(feed: Feed, entries: list[CatalogueChange], base: str, publisher: str) -> bytes:
    """The feed of `entries` (newest first) as an Atom document."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "vi"})
    _add(root, "id", feed.address)
    _add(root, "title", feed.title)
    newest = entries[0].at if entries else EPOCH
    _add(root, "updated", format_timestamp(newest))
    _author(root, publisher)
    _add(root, "link", rel="self", type="application/atom+xml", href=feed.address)
    _add(root, "link", rel="alternate", type="text/html", href=feed.page)
    names = _agency_names()
    for entry in entries:
        page = page_url(base, "public.procedure", code=entry.code)
        item = _add(root, "entry")
        _add(item, "id", f"{page}#thay-doi-{entry.id}")
        _add(item, "title", _title(entry))
        _add(item, "updated", format_timestamp(entry.at))
        _author(item, _entry_author(entry, names, publisher))
        _add(item, "link", rel="alternate", type="text/html", href=page)
        _add(item, "category", term=entry.kind)
        _add(item, "summary", "\n".join(entry.summary), type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
