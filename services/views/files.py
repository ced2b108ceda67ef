"""Downloads of uploaded form templates, for everyone: /tep-mau/<stored name>.

Files are sent as attachments under the name they were uploaded with (RFC 6266 `filename*` for
Vietnamese names), never rendered in the browser (`nosniff` is on every response, see
headers.py).
"""

from __future__ import annotations

from flask import Blueprint, send_file

from .. import uploads

bp = Blueprint("files", __name__)


@bp.get("/tep-mau/<name>")
def template(name: str):
    attachment, path = uploads.get_attachment(name)
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name or name,
        max_age=86400,
    )
