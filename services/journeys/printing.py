"""A journey on paper: its steps and totals laid out for A4 by the portal's printing machinery
(services.printing: the print stylesheet, WeasyPrint, the QR code to the page from the
configured base URL only, never the request's Host)."""

from __future__ import annotations

from flask import render_template

from .. import printing
from ..db import utcnow
from . import queries


def journey_sheet(slug: str, base: str | None) -> str:
    """The print view of a published journey as an HTML document; without `base` (see
    printing.configured_base) it has no QR code and says so. Raises NotFound."""
    page = queries.journey_page(slug)
    url = printing.page_url(base, "journeys.journey", slug=slug) if base else None
    return render_template(
        "print/journey.html",
        page=page,
        url=url,
        qr=printing.qr_data_uri(url) if url else None,
        printed_at=utcnow(),
        base_warning=printing.local_base_warning(base),
    )


def journey_pdf(slug: str, base: str | None) -> bytes:
    """The A4 PDF of a published journey (made inside a request: its links are the
    request's). Raises NotFound."""
    return printing.html_pdf(journey_sheet(slug, base), base)
