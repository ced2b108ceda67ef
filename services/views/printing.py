"""Printed procedures: the print view and PDF of one procedure, booklets of an agency or a
lĩnh vực for the reception desk."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from .. import printing

bp = Blueprint("printing", __name__)


@bp.get("/thu-tuc/<code>/in")
def procedure_sheet(code: str):
    return printing.procedure_sheet(code, printing.portal_base(request.url_root))


@bp.get("/thu-tuc/<code>.pdf")
def procedure_pdf(code: str):
    pdf = printing.procedure_pdf(code, printing.portal_base(request.url_root))
    return _pdf_response(pdf, f"thu-tuc-{code}.pdf")


@bp.get("/co-quan/<slug>/so-tay.pdf")
def agency_booklet(slug: str):
    with_children = request.args.get("truc-thuoc") == "1"
    return _booklet(
        lambda: printing.agency_booklet(slug, with_children=with_children),
        url_for("public.agency", slug=slug),
    )


@bp.get("/linh-vuc/<slug>/so-tay.pdf")
def field_booklet(slug: str):
    return _booklet(lambda: printing.field_booklet(slug), url_for("public.field", slug=slug))


def _booklet(find, back_url: str):
    """Send a booklet's PDF; an empty one is a page that says so, not an empty PDF."""
    try:
        booklet = find()
    except printing.EmptyBooklet as error:
        return render_template("print/empty.html", message=str(error), back_url=back_url), 404
    pdf = printing.booklet_pdf(booklet, printing.portal_base(request.url_root))
    response = _pdf_response(pdf.data, f"so-tay-{booklet.name}.pdf")
    response.set_etag(pdf.key)
    return response.make_conditional(request)


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
