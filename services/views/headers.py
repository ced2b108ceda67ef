"""Security headers on every response: pages, the API, PDFs, files, error pages and static
files (an app-wide `after_request`, which Flask also runs for error responses).

The Content-Security-Policy allows scripts, styles, fonts and fetches from the portal itself
only, with no inline script or style anywhere (the templates load /static/ files; JSON-LD data
blocks are not scripts), images from the portal and `data:` (printed QR codes, the empty
favicon), and no framing at all (`frame-ancestors 'none'`: the staff login cannot be put under
another site's clickjacking frame); PDFs get a policy their browser viewer can live with.
HSTS is sent only on HTTPS, as `request.is_secure` sees it (behind nginx that is ProxyFix
reading X-Forwarded-Proto, see TRUSTED_PROXIES), so a portal run over plain HTTP never tells
browsers to refuse it.

The headers are built with `secure` (typed builders, no dependencies).
"""

from __future__ import annotations

from flask import Flask, Response, request
from secure import (
    ContentSecurityPolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)

SELF = "'self'"
NONE = "'none'"

CSP = (
    ContentSecurityPolicy()
    .default_src(SELF)
    .script_src(SELF)
    .style_src(SELF)
    .img_src(SELF, "data:")
    .font_src(SELF)
    .connect_src(SELF)
    .object_src(NONE)
    .base_uri(NONE)
    .form_action(SELF)
    .frame_ancestors(NONE)
)

# Features a catalogue of procedures never needs, denied to the page and anything it embeds.
PERMISSIONS = (
    PermissionsPolicy().camera().microphone().geolocation().payment().usb().browsing_topics()
)

# A PDF is shown by the browser's own viewer, a page the browser makes around it with inline
# styles and a plugin: Chrome applies the PDF's CSP to that page and shows it blank under
# `object-src 'none'` or a strict `style-src`. The PDF itself runs nothing of ours, so its
# policy keeps only what does not touch the viewer: no framing, no base, no form.
PDF_CSP = ContentSecurityPolicy().frame_ancestors(NONE).base_uri(NONE).form_action(NONE)


def _headers(csp: ContentSecurityPolicy) -> Secure:
    return Secure(
        csp=csp,
        permissions=PERMISSIONS,
        referrer=ReferrerPolicy().strict_origin_when_cross_origin(),
        xcto=XContentTypeOptions().nosniff(),
        # For browsers that predate frame-ancestors.
        xfo=XFrameOptions().deny(),
    )


EVERY_RESPONSE = _headers(CSP)
PDF_RESPONSE = _headers(PDF_CSP)
# One year, without includeSubDomains: the portal's host may sit under a locality's domain whose
# other sites are not ours to pin.
HTTPS_ONLY = Secure(hsts=StrictTransportSecurity().max_age(31_536_000))


def set_security_headers(response: Response) -> Response:
    """Add the security headers to `response` (HSTS only when the request came over HTTPS).
    A response that already carries its own, narrower policy keeps it (the SVG charts of
    services/charts.py, which allow nothing but their inline styles)."""
    own_policy = response.headers.get("Content-Security-Policy")
    headers = PDF_RESPONSE if response.mimetype == "application/pdf" else EVERY_RESPONSE
    headers.set_headers(response)
    if own_policy:
        response.headers["Content-Security-Policy"] = own_policy
    if request.is_secure:
        HTTPS_ONLY.set_headers(response)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers with every response of `app`."""
    app.after_request(set_security_headers)
