"""Editions of printed sheets and booklets: Vietnamese (the default), English (the interface in
English, `?lang=en`, with the English content and its fallback) and bilingual (`?ban=song-ngu`:
Vietnamese pages whose headings carry their English, with the name and summary in both
languages side by side), for the desk to hand to a foreign investor.

The bilingual mark lives on `g` for the document being rendered, in a request or in a
background booklet build alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from .errors import ValidationError

PARAMETER = "ban"
BILINGUAL = "song-ngu"


def requested(value: str | None) -> bool:
    """Whether a request's `?ban=` asks for the bilingual edition; absent or empty is the
    ordinary one. Raises ValidationError for any other value."""
    if value in (None, ""):
        return False
    if value == BILINGUAL:
        return True
    raise ValidationError(
        _(
            "Không có bản in “%(v)s”: dùng %(p)s=%(b)s cho bản song ngữ Việt – Anh, hoặc bỏ tham"
            " số này để in bản thường.",
            v=value,
            p=PARAMETER,
            b=BILINGUAL,
        )
    )


def bilingual() -> bool:
    """True while a bilingual document is being rendered."""
    return bool(g.get("bilingual_edition"))


def file_suffix(is_bilingual: bool) -> str:
    """What a downloaded PDF's name says of its edition: "-song-ngu", "-en" or nothing."""
    if is_bilingual:
        return f"-{BILINGUAL}"
    language = str(get_locale())
    return "" if language == current_app.config["BABEL_DEFAULT_LOCALE"] else f"-{language}"


def link_args() -> dict[str, str]:
    """The query a link from a document to its other forms (print view ⇄ PDF) keeps."""
    return {PARAMETER: BILINGUAL} if bilingual() else {}


@contextmanager
def rendering(is_bilingual: bool) -> Iterator[None]:
    """Render a document in the bilingual edition (Vietnamese interface, English beside it) when
    `is_bilingual`; otherwise leave the language as it is."""
    if not is_bilingual:
        yield
        return
    previous = g.get("bilingual_edition")
    g.bilingual_edition = True
    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield
    finally:
        g.bilingual_edition = previous
