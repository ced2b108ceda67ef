"""The interface's language: which one a request gets, the links that switch it, and the
headers that tell caches the page depends on it.

Vietnamese is the source language (the strings in the code); English comes from
translations/en. A visitor's language is, in this order: `?lang=` on the URL (a link that can
be shared, remembered in a cookie from then on), the cookie, the browser's Accept-Language,
Vietnamese. Outside a request (the CLI, background builds) it is the `LANGUAGE` setting
(`TTHC_LANGUAGE=en`), else BABEL_DEFAULT_LOCALE.

A language is offered only when its catalogue is compiled (`make translations`); a missing one
is logged at start, so a deployment that forgot to compile does not show a switch to English
that changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

import flask_babel
from babel.support import NullTranslations
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import get_babel, get_locale

from ..printing import configured_base, page_url

# Each language named in itself: the switch must be readable by whoever needs it.
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
PARAMETER = "lang"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600


def offered() -> dict[str, str]:
    """The languages this portal can show (the source one and each compiled catalogue)."""
    return current_app.extensions["languages"]


def _chosen(value: str | None) -> str | None:
    return value if value in offered() else None


def chosen_on_url() -> str | None:
    """The language this request names with `?lang=`, if it names a known one."""
    return _chosen(request.args.get(PARAMETER))


def select_locale() -> str:
    """The language of this request (see the module's docstring); Flask-Babel asks once."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return _chosen(current_app.config.get("LANGUAGE")) or default
    return (
        chosen_on_url()
        or _chosen(request.cookies.get(COOKIE))
        or request.accept_languages.best_match(list(offered()))
        or default
    )


def switch_url(language: str) -> str:
    """This page's address (path and query) in `language`: a relative link for the switch."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER]
    return request.path + "?" + urlencode([*args, (PARAMETER, language)])


def page_in(language: str) -> str:
    """This page's path, without its query, in `language`: a relative address."""
    return f"{request.path}?{urlencode({PARAMETER: language})}"


def alternates() -> list[tuple[str, str]]:
    """(hreflang, URL) for each language of this page and x-default (no `lang`: negotiated);
    absolute under the configured base URL, paths without one; none for a page no route
    matched (an error page)."""
    if request.url_rule is None or request.endpoint is None:
        return []
    values = dict(request.view_args or {})
    base = configured_base()

    def url(**extra: str) -> str:
        if base is None:
            return page_in(extra[PARAMETER]) if extra else request.path
        return page_url(base, request.endpoint, **values, **extra)

    if len(offered()) < 2:
        return []
    links = [(code, url(**{PARAMETER: code})) for code in offered()]
    return [*links, ("x-default", url())]


def remember(response: Response) -> Response:
    """Keep a language chosen with `?lang=` in a cookie, and tell caches that every answer but
    a static file depends on the language's sources."""
    chosen = chosen_on_url()
    if chosen and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(
            COOKIE, chosen, max_age=COOKIE_AGE, samesite="Lax", secure=request.is_secure
        )
    if request.endpoint != "static":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


class Domain(flask_babel.Domain):
    """Flask-Babel's message domain, finding a request's catalogue once per language.

    Flask-Babel looks it up again at every call (about 16 µs, more than a hundred calls a page,
    templates and code: a tenth of a page's time). The one found is kept beside the locale
    Flask-Babel chose, so a `force_locale` block, which puts another locale there, gets its
    own catalogue."""

    def get_translations(self) -> NullTranslations:
        context = g.get("_flask_babel") if g else None
        locale = getattr(context, "babel_locale", None)
        if locale is None:  # not chosen yet, or outside an app context: Flask-Babel decides
            return super().get_translations()
        kept = getattr(context, "tthc_translations", None)
        if kept is not None and kept[0] is locale:
            return kept[1]
        found = super().get_translations()
        context.tthc_translations = (locale, found)
        return found


def init_app(app: Flask) -> None:
    """Find the compiled catalogues, make the switch and the alternates available to
    templates, and remember choices. Call after Flask-Babel's init_app."""
    with app.app_context():
        compiled = {str(locale) for locale in get_babel().instance.list_translations()}
    for code in LANGUAGES.keys() - compiled:
        app.logger.warning("no compiled catalogue for %r: run `make translations`", code)
    app.extensions["languages"] = {k: v for k, v in LANGUAGES.items() if k in compiled}
    app.add_template_global(offered, "languages")
    app.add_template_global(switch_url, "language_url")
    app.add_template_global(alternates, "language_alternates")
    app.add_template_global(lambda: str(get_locale()), "current_language")
    app.after_request(remember)
