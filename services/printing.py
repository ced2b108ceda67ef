"""Procedure sheets and booklets for paper.

A sheet is one procedure laid out for A4: the procedure page's own markup
(templates/public/_procedure_body.html) wrapped in a header with the portal, the agency and a QR
code that opens the procedure's online page. A booklet gathers the published procedures of an
agency (optionally with its sub-agencies) or of a lĩnh vực behind a cover and a table of
contents. Both are HTML from the same templates; PDFs are made from that HTML by WeasyPrint with
the portal's one print stylesheet (static/css/print.css).

Booklets take tens of seconds to lay out, so their PDFs are kept in PRINT_CACHE_DIR under a
fingerprint of everything they show (their HTML without the print date, plus the stylesheets):
one is rebuilt exactly when something on its pages changed, by one builder at a time
(build_lock); the web has them built in the background (services/booklets.py).

Absolute addresses come from the site settings' base URL only (portal_base), never from a
request's Host header: without one, documents are printed without QR codes.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import mimetypes
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import segno
from flask import current_app, has_request_context, render_template
from flask_babel import gettext as _
from sqlalchemy import select
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

from .catalogue import outdated, queries, rows
from .catalogue.queries import FULL_PROCEDURE, Group
from .content_language import content_text
from .db import db, utcnow
from .errors import NotFound, ValidationError
from .models import Agency, Procedure

# The stylesheet that lays printed pages out: part of every booklet's fingerprint, beside its
# HTML (which already reflects the data and the templates), so that a new one rebuilds them.
STYLESHEETS = ("css/print.css",)


class EmptyBooklet(NotFound):
    """The agency or lĩnh vực exists but has no published procedure to print."""


# --- addresses and QR codes ---------------------------------------------------------------------


def portal_base() -> str:
    """The absolute URL the portal is reached at: the site settings' base URL, ending with "/".

    This is the one source of absolute addresses (QR codes, and whatever must name the portal
    outside a page): never the Host header of a request, which any client may forge. Raises
    ValidationError when no http(s) base URL is configured; callers then print no QR code, or
    use relative links.
    """
    configured = queries.get_settings().base_url
    try:
        return absolute_base(configured)
    except ValidationError:
        if configured:
            current_app.logger.warning("base_url %r is not an http(s) URL: ignored", configured)
        raise


def configured_base() -> str | None:
    """portal_base(), or None when there is none: documents are then printed without QR codes
    (and say so), rather than with one that opens whatever host a request named."""
    try:
        return portal_base()
    except ValidationError:
        return None


def absolute_base(url: str) -> str:
    """`url` checked to be an absolute http(s) address, ending with "/".

    Raises ValidationError otherwise: QR codes on paper must open a real page.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            {
                "base_url": _(
                    "Chưa có địa chỉ trang thông tin (base_url) hợp lệ nên không tạo được mã QR"
                    " dẫn tới thủ tục."
                )
            }
        )
    return url.strip().rstrip("/") + "/"


def local_base_warning(base: str | None) -> str | None:
    """Why QR codes and links under `base` would not open for the people who scan them, or None:
    the base URL names this machine (a loopback address, "localhost") or a private network's
    address, as the demo's default and `make run` on a laptop do. Names other than localhost are
    not looked up: they may be public."""
    host = (urlsplit(base).hostname or "") if base else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if (
        host == "localhost"
        or host.endswith(".localhost")
        or (address and (address.is_loopback or address.is_unspecified))
    ):
        return _(
            "Địa chỉ trang thông tin (base_url) %(url)s là địa chỉ của chính máy chủ: mã QR trên"
            " bản in và đường dẫn chia sẻ sẽ không mở được trên máy khác. Hãy đặt địa chỉ công"
            " khai của cổng trong phần Thông tin cổng.",
            url=base,
        )
    if address and (address.is_private or address.is_link_local):
        return _(
            "Địa chỉ trang thông tin (base_url) %(url)s là địa chỉ mạng nội bộ: mã QR trên bản in"
            " và đường dẫn chia sẻ chỉ mở được trong mạng này. Hãy đặt địa chỉ công khai của cổng"
            " trong phần Thông tin cổng.",
            url=base,
        )
    return None


def page_url(base: str, endpoint: str, **values: str) -> str:
    """The absolute URL of a portal page under `base` (which may include a path prefix)."""
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """A QR code of `url` as an SVG data URI (vector, so it prints sharp at any size). Kept
    for the addresses last asked for: making one takes 4 ms, and a cached sheet's PDF is
    found by the fingerprint of its page, QR code included."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2)


# Where WeasyPrint and url_for outside a request are told the document lives when no base URL
# is configured: a reserved name (RFC 2606) that resolves nowhere; no link to it is kept.
_NO_BASE = "http://tthc.invalid/"


@contextmanager
def _url_context(base: str | None) -> Iterator[None]:
    """Templates build (relative) links with url_for; outside a request (CLI, background
    builds) give them one rooted at the portal's base URL."""
    if has_request_context():
        yield
    else:
        with current_app.test_request_context(base_url=base or _NO_BASE):
            yield


# --- sheets -------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One procedure ready for its template: the procedure, its online address and QR code
    (None without a configured base URL), and the related procedures its page links to."""

    procedure: Procedure
    url: str | None
    qr: str | None
    related: dict[str, Procedure]


def sheet_url(base: str, procedure: Procedure, state: int | None) -> str:
    """The address a sheet's QR code opens: the procedure's page, told which state of it the
    sheet was printed from (services.catalogue.outdated), so that it can say what changed."""
    values = {outdated.PARAMETER: str(state)} if state is not None else {}
    return page_url(base, "public.procedure", code=procedure.code, **values)


def _sheets(
    procedures: list[Procedure], base: str | None, related: dict[str, Procedure] | None = None
) -> list[Sheet]:
    if related is None:
        codes = sorted({r.code for p in procedures for r in p.related})
        related = queries.procedures_by_code(codes)
    states = outdated.state_numbers(procedures) if base else {}
    sheets = []
    for procedure in procedures:
        url = sheet_url(base, procedure, states[procedure.id]) if base else None
        sheets.append(Sheet(procedure, url, qr_data_uri(url) if url else None, related))
    return sheets


def _sheet(code: str, base: str | None) -> Sheet:
    """One public procedure's sheet, loaded as its page is (one statement). Raises NotFound."""
    procedure, related = rows.procedure_page(code)
    return _sheets([procedure], base, related)[0]


def procedure_sheet(code: str, base: str | None) -> str:
    """The print view of a public procedure as an HTML document.

    `base` is the portal's absolute URL (see configured_base); without one the sheet has no QR
    code but a note for staff. Raises NotFound.
    """
    return _sheet_html(_sheet(code, base), base, utcnow())


def _sheet_html(sheet: Sheet, base: str | None, printed_at: datetime | None) -> str:
    with _url_context(base):
        return render_template(
            "print/sheet.html",
            sheet=sheet,
            printed_at=printed_at,
            base_warning=local_base_warning(base),
        )


def procedure_pdf(code: str, base: str | None) -> bytes:
    """The A4 PDF of a public procedure. Raises NotFound.

    Laying a sheet out takes WeasyPrint a quarter of a second of a core, more than anything
    else the site serves, so the PDF is kept in PRINT_CACHE_DIR under a fingerprint of the
    sheet without its print time, plus the day: the same sheet (same procedure state, edition,
    language, settings, stylesheet) is laid out at most once a day, and a changed one at once.
    Sheets no request asked for in SHEET_DAYS days leave the cache."""
    sheet = _sheet(code, base)
    now = utcnow()
    key = _fingerprint(_sheet_html(sheet, base, None) + now.date().isoformat())
    path = cache_dir() / f"{SHEET_PREFIX}{key}.pdf"
    try:
        pdf = path.read_bytes()
    except FileNotFoundError:
        pass
    else:
        with suppress(OSError):
            os.utime(path)  # asked for: kept
        return pdf
    pdf = html_pdf(_sheet_html(sheet, base, now), base)
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as out:
            out.write(pdf)
        os.replace(out.name, path)
        _forget_old_sheets(path.parent)
    except OSError:  # a full or read-only disk costs the next request a layout, nothing else
        current_app.logger.warning("print cache %s not written", path.parent, exc_info=True)
    return pdf


SHEET_PREFIX = "sheet-"
SHEET_DAYS = 2


def _forget_old_sheets(cache: Path) -> None:
    limit = time.time() - SHEET_DAYS * 86400
    for old in cache.glob(f"{SHEET_PREFIX}*.pdf"):
        with suppress(OSError):  # another process removed it first
            if old.stat().st_mtime < limit:
                old.unlink()


# --- PDF ----------------------------------------------------------------------------------------


class _StaticFetcher(URLFetcher):
    """Gives WeasyPrint the portal's own stylesheets from disk and data: URIs (QR codes), and
    nothing else: printing never reaches the network, whatever a procedure links to."""

    def __init__(self, static_url: str, static_folder: str) -> None:
        super().__init__(allowed_protocols=("data",))
        self.static_url = static_url
        self.static_folder = static_folder

    def fetch(self, url: str, headers=None):
        if url.startswith(self.static_url):
            path = safe_join(self.static_folder, url[len(self.static_url) :].split("?")[0])
            if path and os.path.isfile(path):
                kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, Path(path).read_bytes(), headers={"Content-Type": kind}
                )
        return super().fetch(url, headers)


def html_pdf(html: str, base: str | None) -> bytes:
    """An A4 PDF of a print view's HTML: the print stylesheets read from the static folder,
    links made under `base` (without one, only links inside the PDF are kept)."""
    root = base or _NO_BASE
    static_url = page_url(root, "static", filename="")
    fetcher = _StaticFetcher(static_url, current_app.static_folder or "")
    document = HTML(string=html, base_url=root, url_fetcher=fetcher).render()
    if base is None:  # links would open the placeholder host: keep only those inside the PDF
        for page in document.pages:
            page.links[:] = [link for link in page.links if link[0] == "internal"]
    return document.write_pdf()


# --- booklets -----------------------------------------------------------------------------------


@dataclass
class Section:
    """Part of a booklet: the procedures of one agency (when sub-agencies are included),
    grouped by lĩnh vực."""

    title: str | None
    groups: list[Group]


@dataclass
class Booklet:
    """What a booklet prints: its titles, its procedures in order, and a stable name."""

    name: str
    title: str
    subtitle: str
    sections: list[Section]
    procedures: list[Procedure] = field(default_factory=list)


def _load_full(groups: list[Group], seen: set[int]) -> list[Group]:
    """Reload the procedures of `groups` with everything their sheets show, in one query, and
    drop the ones already printed in an earlier section."""
    ids = [p.id for g in groups for p in g.procedures if p.id not in seen]
    loaded = {
        p.id: p
        for p in db.session.execute(
            select(Procedure).where(Procedure.id.in_(ids)).options(*FULL_PROCEDURE)
        ).scalars()
    }
    out = []
    for group in groups:
        procedures = [loaded[p.id] for p in group.procedures if p.id in loaded and p.id not in seen]
        seen.update(p.id for p in procedures)
        if procedures:
            out.append(Group(group.title, group.slug, procedures, group.name_en))
    return out


def _subtree(slug: str) -> list[Agency]:
    """The agency with this slug and all its descendants, depth first in page order."""

    def walk(nodes):
        for node in nodes:
            yield node
            yield from walk(node.children)

    for node in walk(queries.agency_tree()):
        if node.agency.slug == slug:
            return [n.agency for n in walk([node])]
    return []


def agency_booklet(slug: str, *, with_children: bool = False) -> Booklet:
    """The booklet of an agency's published procedures, by lĩnh vực; with `with_children`, its
    sub-agencies' procedures follow, one section per agency.

    Raises NotFound for an unknown agency, EmptyBooklet when there is nothing to print.
    """
    agency = queries.get_agency(slug)
    agencies = _subtree(slug) if with_children else [agency]
    seen: set[int] = set()
    sections = []
    for member in agencies:
        groups = _load_full(queries.agency_procedures(member), seen)
        if groups:
            sections.append(Section(content_text(member) if with_children else None, groups))
    booklet = Booklet(
        name=f"co-quan-{slug}" + ("-truc-thuoc" if with_children else ""),
        title=content_text(agency),
        subtitle=_("kèm các cơ quan trực thuộc") if with_children else "",
        sections=sections,
    )
    return _checked(
        booklet, _("Cơ quan “%(name)s” chưa có thủ tục nào được công bố.", name=agency.name)
    )


def field_booklet(slug: str) -> Booklet:
    """The booklet of a lĩnh vực's published procedures, by name.

    Raises NotFound for an unknown lĩnh vực, EmptyBooklet when there is nothing to print.
    """
    found = queries.get_field(slug)
    procedures = queries.field_procedures(found)
    groups = _load_full([Group(found.name, found.slug, procedures, found.name_en)], set())
    booklet = Booklet(
        name=f"linh-vuc-{slug}",
        title=_("Lĩnh vực %(name)s", name=content_text(found)),
        subtitle="",
        sections=[Section(None, groups)] if groups else [],
    )
    return _checked(
        booklet, _("Lĩnh vực “%(name)s” chưa có thủ tục nào được công bố.", name=found.name)
    )


def _checked(booklet: Booklet, empty_message: str) -> Booklet:
    booklet.procedures = [p for s in booklet.sections for g in s.groups for p in g.procedures]
    if not booklet.procedures:
        raise EmptyBooklet(empty_message)
    return booklet


def booklet_html(booklet: Booklet, base: str | None, *, printed_at: datetime | None = None) -> str:
    """The booklet as one HTML document; without `printed_at` it carries no print date, which
    is how its fingerprint stays the same from day to day."""
    sheets = {s.procedure.id: s for s in _sheets(booklet.procedures, base)}
    with _url_context(base):
        return render_template(
            "print/booklet.html",
            booklet=booklet,
            sheets=sheets,
            printed_at=printed_at,
            base_warning=local_base_warning(base),
        )


def _fingerprint(html: str) -> str:
    digest = hashlib.sha256(html.encode())
    static = Path(current_app.static_folder or "")
    for name in STYLESHEETS:
        digest.update((static / name).read_bytes())
    return digest.hexdigest()[:20]


def booklet_key(booklet: Booklet, base: str | None) -> str:
    """The fingerprint of everything the booklet shows: the name of its cached PDF."""
    return _fingerprint(booklet_html(booklet, base))


@dataclass
class BookletPDF:
    """A booklet's PDF, the fingerprint it was built from (an ETag), and whether this call had
    to build it."""

    data: bytes
    key: str
    built: bool


def cache_dir() -> Path:
    cache = Path(current_app.config["PRINT_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def cached_pdf(name: str, key: str) -> BookletPDF | None:
    """The booklet's PDF built from this fingerprint, if the cache has it."""
    try:
        return BookletPDF((cache_dir() / f"{name}.{key}.pdf").read_bytes(), key, built=False)
    except FileNotFoundError:
        return None


@contextmanager
def build_lock(name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the booklet's build lock (an flock on PRINT_CACHE_DIR/<name>.lock), across the
    threads and processes of every server and command; yields False when `wait` is off and
    another holds it. The kernel frees it when its holder dies, even by kill -9."""
    with open(cache_dir() / f"{name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def booklet_pdf(
    booklet: Booklet, base: str | None, key: str | None = None, *, wait: bool = True
) -> BookletPDF | None:
    """The booklet's PDF from the cache, built first when any page of it changed (`key`, its
    fingerprint, when the caller has it already).

    One build per booklet at a time: a caller that finds another building waits for it and
    takes its PDF, or with `wait` off returns None at once. Files are written atomically and
    read whole, so nobody is served half a PDF; versions older than the one just built are
    removed.
    """
    key = key or booklet_key(booklet, base)
    found = cached_pdf(booklet.name, key)
    if found:
        return found
    with build_lock(booklet.name, wait=wait) as mine:
        if not mine:
            return None
        found = cached_pdf(booklet.name, key)  # built by whoever held the lock before us
        if found:
            return found
        cache = cache_dir()
        path = cache / f"{booklet.name}.{key}.pdf"
        pdf = html_pdf(booklet_html(booklet, base, printed_at=utcnow()), base)
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".part", delete=False) as out:
            out.write(pdf)
        os.replace(out.name, path)
        for old in cache.glob(f"{booklet.name}.*.pdf"):
            if old != path:
                old.unlink(missing_ok=True)  # builds are one at a time: all are older
    return BookletPDF(pdf, key, built=True)
