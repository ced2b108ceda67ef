"""The catalogue's own text in the page's language: the English name and summary staff wrote
for a procedure, agency or lĩnh vực, or, when there is none, the Vietnamese marked as such.

On a Vietnamese page every helper gives back the Vietnamese text unchanged (a plain string, so
the page is the same as before English content existed). On an English page:

- `content(row, "name" | "summary")` is the English, or the Vietnamese wrapped in
  `lang="vi"` with a visible "(Vietnamese only)": never an empty field while there is text;
- `legal_name(row)` is the English name with the Vietnamese original beside it (a smaller line,
  `lang="vi"`): the name people meet on the papers at the desk;
- `content_text(row, key)` is the same choice as plain text, for `<title>`, meta descriptions
  and breadcrumbs.

A printed sheet or booklet may be "bilingual" (services.editions): the page is Vietnamese,
headings carry their English (`|both`), and the name and summary stand in both languages.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from . import editions

# The Vietnamese column an English one translates when their names differ (a procedure's or
# agency's summary translates its description; a journey's columns translate their namesakes);
# a lĩnh vực has no Vietnamese summary.
ORIGINAL = {"summary": "description"}


def english_page() -> bool:
    """True when the content is shown in English (an English page, not a bilingual sheet)."""
    return str(get_locale()) == "en" and not editions.bilingual()


def original(row: object, key: str) -> str:
    """The Vietnamese text of `key` ("name", "summary", a journey step's "title" or "note")
    of a row."""
    return getattr(row, ORIGINAL.get(key, key), None) or getattr(row, key, "") or ""


def english(row: object, key: str) -> str:
    """The English text staff wrote for `key`, "" when none."""
    return getattr(row, f"{key}_en", "") or ""


def marked_vietnamese(text: str) -> Markup:
    """Vietnamese shown on an English page: `lang="vi"` and a visible mark."""
    return Markup('<span lang="vi">%s</span> <span class="untranslated" lang="en">(%s)</span>') % (
        text,
        _("chỉ có tiếng Việt"),
    )


def content(row: object, key: str = "name") -> str | Markup:
    """The text of `key` for this page (see the module's docstring); "" only when the row has
    no text in either language."""
    if not english_page():
        return original(row, key)
    if text := english(row, key):
        return Markup('<span lang="en">%s</span>') % text
    return marked_vietnamese(vi) if (vi := original(row, key)) else ""


def legal_name(row: object, vietnamese: str | None = None) -> str | Markup:
    """A procedure's or agency's name: on English pages the English with the Vietnamese
    original beside it, or the Vietnamese marked when there is no English; on a bilingual
    sheet the Vietnamese with the English after it. `vietnamese` is the Vietnamese to show
    instead of the row's (a search result's highlighted name)."""
    vi = original(row, "name") if vietnamese is None else vietnamese
    if editions.bilingual() and english(row, "name"):
        return Markup('%s <span class="both-en" lang="en">/ %s</span>') % (vi, english(row, "name"))
    if not english_page():
        return vi
    if not english(row, "name"):
        return marked_vietnamese(vi)
    return Markup('<span lang="en">%s</span> <span class="original" lang="vi">%s</span>') % (
        english(row, "name"),
        vi,
    )


def content_text(row: object, key: str = "name", vietnamese: str | None = None) -> str:
    """The text of `key` as plain text: the English on English pages when there is one, else
    the Vietnamese (`vietnamese` when the page shows another Vietnamese form, a short name)."""
    if english_page() and (text := english(row, key)):
        return text
    return original(row, key) if vietnamese is None else vietnamese


def in_english(text: str) -> str:
    """An interface string's English (its Vietnamese source when it has no translation)."""
    with force_locale("en"):
        return _(str(text))


def both(text: str) -> str | Markup:
    """An interface string (its Vietnamese source, as `_()` gives it on a Vietnamese page) with
    its English beside it on a bilingual sheet; unchanged anywhere else."""
    if not editions.bilingual():
        return text
    translated = in_english(text)
    if translated == str(text):
        return text
    return Markup('%s <span class="both-en" lang="en">/ %s</span>') % (text, translated)


def init_app(app: Flask) -> None:
    """Make the helpers available to every template."""
    for name, function in {
        "content": content,
        "legal_name": legal_name,
        "content_text": content_text,
        "english_page": english_page,
        "bilingual": editions.bilingual,
        "edition_args": editions.link_args,
        "english_of": english,
        "in_english": in_english,
    }.items():
        app.add_template_global(function, name)
    app.add_template_filter(both, "both")
