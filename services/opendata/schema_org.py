"""schema.org JSON-LD for the public pages: a procedure as a GovernmentService, an agency as a
GovernmentOrganization, and the breadcrumbs of both. Links are absolute under the configured
base URL (the caller passes it; pages without one carry no JSON-LD)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..labels import label
from ..models import Agency, Channel, Procedure, ProcedureAgency, Role, SiteSettings, TimeUnit
from ..printing import page_url

CONTEXT = "https://schema.org"
# ISO 8601 designators of the stored time units; working days are days (the ISO duration has
# no notion of working days: the page's text says which).
_DESIGNATORS = {
    TimeUnit.WORKING_DAYS: ("P", "D", 24, "H"),
    TimeUnit.DAYS: ("P", "D", 24, "H"),
    TimeUnit.HOURS: ("PT", "H", 60, "M"),
    TimeUnit.MONTHS: ("P", "M", None, None),
}


def iso_duration(value: float | None, unit: str | None) -> str | None:
    """A numeric time limit as an ISO 8601 duration ("P15D", "PT36H" for 1.5 days); None when
    there is no number or it cannot be said exactly (xsd:duration allows no fraction but of
    seconds)."""
    if value is None or value <= 0 or unit not in _DESIGNATORS:
        return None
    prefix, designator, factor, smaller = _DESIGNATORS[TimeUnit(unit)]
    if float(value).is_integer():
        return f"{prefix}{int(value)}{designator}"
    if factor is None or not float(value * factor).is_integer():
        return None
    return f"PT{int(value * factor)}{smaller}"


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without empty values (JSON-LD drops them anyway; the markup stays readable)."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def _english(text: str) -> dict[str, str] | None:
    """Staff's English as a language-tagged value (None when there is none)."""
    return {"@value": text, "@language": "en"} if text else None


def organization(agency: Agency, base: str) -> dict[str, Any]:
    """An agency of the catalogue as a GovernmentOrganization."""
    url = page_url(base, "public.agency", slug=agency.slug)
    return _clean(
        {
            "@type": "GovernmentOrganization",
            "@id": f"{url}#co-quan",
            "name": agency.name,
            "alternateName": [n for n in (agency.short_name, _english(agency.name_en)) if n],
            "url": url,
            "address": agency.address,
            "telephone": agency.phone,
            "email": agency.email,
            "sameAs": agency.website,
            "description": agency.description,
        }
    )


def _operator(link: ProcedureAgency, base: str) -> dict[str, Any]:
    if link.agency is not None:
        return organization(link.agency, base)
    return {"@type": "GovernmentOrganization", "name": link.name}


def _channel(channel: Channel, procedure: Procedure, url: str) -> dict[str, Any]:
    location = None
    if channel.kind != "online" and procedure.receiving_address:
        location = {"@type": "Place", "address": procedure.receiving_address}
    return _clean(
        {
            "@type": "ServiceChannel",
            "name": label(channel.kind),
            "processingTime": iso_duration(channel.time_limit_value, channel.time_limit_unit),
            "serviceLocation": location,
            "serviceUrl": url,
            "description": channel.time_limit_text,
        }
    )


def _offer(channel: Channel) -> dict[str, Any]:
    return _clean(
        {
            "@type": "Offer",
            "name": label(channel.kind),
            "price": channel.fee_amount,
            "priceCurrency": "VND",
            "description": channel.fee_text,
        }
    )


def _legislation(procedure: Procedure) -> list[dict[str, Any]]:
    return [
        _clean(
            {
                "@type": "Legislation",
                "name": basis.title or basis.number,
                "legislationIdentifier": basis.number,
                "legislationDate": basis.issued_date.isoformat() if basis.issued_date else None,
                "legislationPassedBy": _clean({"@type": "Organization", "name": basis.issuer})
                if basis.issuer
                else None,
            }
        )
        for basis in procedure.legal_bases
    ]


def government_service(procedure: Procedure, site: SiteSettings, base: str) -> dict[str, Any]:
    """The procedure as a schema.org GovernmentService (without @context)."""
    url = page_url(base, "public.procedure", code=procedure.code)
    priced = [c for c in procedure.channels if c.fee_amount is not None or c.fee_text]
    area = {"@type": "AdministrativeArea", "name": site.locality} if site.locality else None
    return _clean(
        {
            "@type": "GovernmentService",
            "@id": f"{url}#dich-vu",
            "name": procedure.name,
            "alternateName": _english(procedure.name_en),
            "identifier": procedure.code,
            "url": url,
            "description": procedure.description,
            "disambiguatingDescription": _english(procedure.summary_en),
            "category": [field.name for field in procedure.fields],
            "serviceOperator": [
                _operator(link, base) for link in procedure.agencies(Role.IMPLEMENTING)
            ],
            "availableChannel": [_channel(c, procedure, url) for c in procedure.channels],
            "produces": [_clean({"@type": "Thing", "name": r.name}) for r in procedure.results],
            "serviceAudience": [
                {"@type": "Audience", "audienceType": subject.name}
                for subject in procedure.subjects
            ],
            "areaServed": area,
            "subjectOf": _legislation(procedure),
            "offers": [_offer(c) for c in priced],
        }
    )


def breadcrumbs(trail: list[tuple[str, str]]) -> dict[str, Any]:
    """A BreadcrumbList of (name, absolute URL) from the home page down."""
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": url}
            for i, (name, url) in enumerate(trail, start=1)
        ],
    }


def procedure_document(procedure: Procedure, site: SiteSettings, base: str) -> dict[str, Any]:
    """The JSON-LD of a procedure page: its service and its breadcrumbs."""
    trail = [(_("Trang chủ"), page_url(base, "public.index"))]
    agency = procedure.main_agency
    if agency is not None:
        trail.append((agency.display_name, page_url(base, "public.agency", slug=agency.slug)))
    trail.append((procedure.name, page_url(base, "public.procedure", code=procedure.code)))
    return {
        "@context": CONTEXT,
        "@graph": [government_service(procedure, site, base), breadcrumbs(trail)],
    }


def agency_document(agency: Agency, base: str) -> dict[str, Any]:
    """The JSON-LD of an agency page: the organisation (with its parent) and its breadcrumbs."""
    data = organization(agency, base)
    if agency.parent is not None:
        data["parentOrganization"] = organization(agency.parent, base)
    trail = [
        (_("Trang chủ"), page_url(base, "public.index")),
        (_("Cơ quan"), page_url(base, "public.agencies")),
    ]
    if agency.parent is not None:
        trail.append(
            (agency.parent.display_name, page_url(base, "public.agency", slug=agency.parent.slug))
        )
    trail.append((agency.display_name, page_url(base, "public.agency", slug=agency.slug)))
    return {"@context": CONTEXT, "@graph": [data, breadcrumbs(trail)]}
