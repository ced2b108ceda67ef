"""Printed procedures: the print view and PDF of one procedure, booklets of an agency or a
lĩnh vực for the reception desk.

Absolute addresses (QR codes) come from the site settings' base URL only, never from the
request's Host header; without one, documents print without a QR code and say so."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from .. import booklets, editions, printing

bp = Blueprint("printing", __name__)


def _bilingual() -> bool:
    """Whether `?ban=` asks for the bilingual edition (ValidationError, 400, for a bad value)."""
    return editions.requested(request.args.get(editions.PARAMETER))


@bp.get("/thu-tuc/<code>/in")
def procedure_sheet(code: str):
    with editions.rendering(_bilingual()):
        return printing.procedure_sheet(code, printing.configured_base())


@bp.get("/thu-tuc/<code>.pdf")
def procedure_pdf(code: str):
    with editions.rendering(bilingual := _bilingual()):
        pdf = printing.procedure_pdf(code, printing.configured_base())
        suffix = editions.file_suffix(bilingual)
    return _pdf_response(pdf, f"thu-tuc-{code}{suffix}.pdf")


def _spec(kind: str, slug: str, with_children: bool = False) -> booklets.Spec:
    if _bilingual():
        return booklets.Spec(kind, slug, with_children, bilingual=True)
    return booklets.Spec(kind, slug, with_children, language=booklets.language())


@bp.get("/co-quan/<slug>/so-tay.pdf")
def agency_booklet(slug: str):
    spec = _spec("agency", slug, request.args.get("truc-thuoc") == "1")
    return _booklet(spec, url_for("public.agency", slug=slug))


@bp.get("/linh-vuc/<slug>/so-tay.pdf")
def field_booklet(slug: str):
    return _booklet(_spec("field", slug), url_for("public.field", slug=slug))


def _booklet(spec: booklets.Spec, back_url: str):
    """Send a booklet's PDF when it is ready; else a page that refreshes itself until it is
    (202); an empty booklet is a page that says so, not an empty PDF. Each language of the
    interface has its own booklet (`spec.language`), built and cached apart."""
    try:
        pdf = booklets.ready(spec)
    except printing.EmptyBooklet as error:
        return render_template("print/empty.html", message=str(error), back_url=back_url), 404
    if pdf is None:
        page = render_template(
            "print/preparing.html", retry_after=booklets.RETRY_AFTER, back_url=back_url
        )
        headers = {"Retry-After": str(booklets.RETRY_AFTER), "Cache-Control": "no-store"}
        return page, 202, headers
    response = _pdf_response(pdf.data, f"so-tay-{spec.name}.pdf")
    response.set_etag(pdf.key)
    return response.make_conditional(request)


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
