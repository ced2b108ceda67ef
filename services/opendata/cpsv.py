"""The catalogue in the EU's Core Public Service Vocabulary Application Profile (CPSV-AP 3.2.0),
as JSON-LD: a Public Service per published procedure with its Public Organisations, Channels,
Costs, Outputs, Evidence (the dossier), Requirement, Rule (the steps) and Legal Resources.
Journeys (Events) do not exist in the catalogue yet, so none are written.

Every node's IRI is the public page it comes from with a fragment, under the configured base
URL; the vocabularies the profile asks for as concepts (channel kinds, audiences, lĩnh vực) are
the portal's own, published in the same document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..catalogue import queries
from ..labels import label
from ..models import Agency, ChannelKind, Procedure, ProcedureAgency, Role, SiteSettings, Status
from ..printing import page_url
from ..text import slugify
from .links import required_base
from .schema_org import iso_duration

PROFILE_CONTEXT = (
    "https://semiceu.github.io/uri.semic.eu-generated/CPSV-AP/releases/3.2.0/context/cpsv-ap.jsonld"
)
CONTEXT = [
    PROFILE_CONTEXT,
    {
        "cpsv": "http://purl.org/vocab/cpsv#",
        "cv": "http://data.europa.eu/m8g/",
        "dct": "http://purl.org/dc/terms/",
        "dcat": "http://www.w3.org/ns/dcat#",
        "eli": "http://data.europa.eu/eli/ontology#",
        "locn": "http://www.w3.org/ns/locn#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    },
]
VIETNAMESE = "http://publications.europa.eu/resource/authority/language/VIE"
DONG = "http://publications.europa.eu/resource/authority/currency/VND"
COMPETENT_ROLES = (Role.IMPLEMENTING, Role.COMPETENT, Role.AUTHORIZED)


def _vi(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "vi"}


def _texts(vietnamese: str, english: str) -> dict[str, str] | list[dict[str, str]]:
    """A text in Vietnamese and, when staff wrote it, in English too: language-tagged
    literals (one alone when there is no English)."""
    if not english:
        return _vi(vietnamese)
    return [_vi(vietnamese), {"@value": english, "@language": "en"}]


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


class _Graph:
    """The nodes of the document, each written once however many services point to it."""

    def __init__(self, base: str, site: SiteSettings):
        self.base = base
        self.scheme = page_url(base, "api.cpsv_ap")
        self.nodes: dict[str, dict[str, Any]] = {}
        place = site.locality or site.portal_name or base
        self.location = self.add(
            f"{base}#dia-ban", {"@type": "dct:Location", "locn:geographicName": _vi(place)}
        )
        self.add(VIETNAMESE, {"@type": "dct:LinguisticSystem"})
        self.add(DONG, {"@type": "skos:Concept", "skos:prefLabel": _vi("Đồng Việt Nam")})

    def add(self, iri: str, node: dict[str, Any]) -> str:
        self.nodes.setdefault(iri, {"@id": iri, **node})
        return iri

    def concept(self, key: str, name: str) -> dict[str, str]:
        return _ref(
            self.add(f"{self.scheme}#{key}", {"@type": "skos:Concept", "skos:prefLabel": _vi(name)})
        )

    def unknown_authority(self) -> dict[str, str]:
        """The profile requires a competent authority; where the source names none
        ("Không có thông tin" in the national data) it is this node, which says so, rather
        than an invented agency."""
        node = {
            "@type": "cv:PublicOrganisation",
            "skos:prefLabel": _vi(_("Chưa có thông tin về cơ quan thực hiện")),
            "dct:spatial": _ref(self.location),
        }
        return _ref(self.add(f"{self.base}#co-quan-chua-ro", node))

    def organisation(self, link: ProcedureAgency, fallback: str) -> dict[str, str]:
        agency: Agency | None = link.agency
        iri = (
            f"{page_url(self.base, 'public.agency', slug=agency.slug)}#co-quan"
            if agency
            else fallback
        )
        node = {
            "@type": "cv:PublicOrganisation",
            "skos:prefLabel": _vi(agency.name if agency else link.name),
            "dct:spatial": _ref(self.location),
        }
        if agency is not None:
            node["dct:identifier"] = agency.slug
        return _ref(self.add(iri, node))


def _channels(graph: _Graph, procedure: Procedure, url: str) -> tuple[list, list]:
    channels, costs = [], []
    for i, channel in enumerate(procedure.channels, start=1):
        iri = f"{url}#kenh-{i}"
        node: dict[str, Any] = {
            "@type": "cv:Channel",
            "dct:identifier": f"{procedure.code}-kenh-{i}",
            "dct:type": graph.concept(f"kenh-{channel.kind}", label(ChannelKind(channel.kind))),
        }
        duration = iso_duration(channel.time_limit_value, channel.time_limit_unit)
        if duration:
            node["cv:processingTime"] = {"@value": duration, "@type": "xsd:duration"}
        channels.append(_ref(graph.add(iri, node)))
        if channel.fee_amount is None and not channel.fee_text:
            continue
        cost: dict[str, Any] = {
            "@type": "cv:Cost",
            "dct:identifier": f"{procedure.code}-phi-{i}",
            "cv:ifAccessedThrough": _ref(iri),
        }
        if channel.fee_text:
            cost["dct:description"] = _vi(channel.fee_text)
        if channel.fee_amount is not None:
            cost["cv:hasValue"] = {"@value": float(channel.fee_amount), "@type": "xsd:double"}
            cost["cv:currency"] = _ref(DONG)
        costs.append(_ref(graph.add(f"{url}#phi-{i}", cost)))
    return channels, costs


_PART_KEYS = {"cv:Output": "ket-qua", "cv:Evidence": "ho-so", "eli:LegalResource": "can-cu"}


def _parts(graph: _Graph, procedure: Procedure, url: str, kind: str, items) -> list[dict]:
    """Numbered nodes of one kind (Output, Evidence, LegalResource) from (title, extra)."""
    key = _PART_KEYS[kind]
    refs = []
    for i, (title, extra) in enumerate(items, start=1):
        node = {"@type": kind, "dct:identifier": f"{procedure.code}-{key}-{i}"}
        node["dct:title"] = _vi(title)
        refs.append(_ref(graph.add(f"{url}#{key}-{i}", {**node, **extra})))
    return refs


def _evidence(item) -> tuple[str, dict]:
    notes = " — ".join(text for text in (item.group, item.note) if text)
    return item.name, ({"dct:description": _vi(notes)} if notes else {})


def _rules(graph: _Graph, procedure: Procedure, url: str, legal: list) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if procedure.steps:
        steps = "\n".join(f"{i}. {s.text}" for i, s in enumerate(procedure.steps, start=1))
        rule = {
            "@type": "cpsv:Rule",
            "dct:identifier": f"{procedure.code}-trinh-tu",
            "dct:title": _vi(_("Trình tự thực hiện")),
            "dct:description": _vi(steps),
            "cpsv:implements": legal,
        }
        out["cpsv:follows"] = [_ref(graph.add(f"{url}#trinh-tu", rule))]
    if procedure.requirements:
        requirement = {
            "@type": "cv:Requirement",
            "dct:identifier": f"{procedure.code}-dieu-kien",
            "dct:title": _vi(_("Yêu cầu, điều kiện")),
            "dct:description": _vi(procedure.requirements),
        }
        out["cv:holdsRequirement"] = [_ref(graph.add(f"{url}#dieu-kien", requirement))]
    return out


def _authorities(procedure: Procedure) -> list[tuple[int, ProcedureAgency]]:
    return [
        (i, link)
        for i, link in enumerate(procedure.agency_links, start=1)
        if link.role in COMPETENT_ROLES and (link.agency or link.name)
    ]


def _service(graph: _Graph, procedure: Procedure) -> None:
    url = page_url(graph.base, "public.procedure", code=procedure.code)
    authorities = [
        graph.organisation(link, f"{url}#co-quan-{i}") for i, link in _authorities(procedure)
    ] or [graph.unknown_authority()]
    channels, costs = _channels(graph, procedure, url)
    legal = _parts(
        graph, procedure, url, "eli:LegalResource",
        (((f"{b.number} {b.title}").strip(), {}) for b in procedure.legal_bases),
    )  # fmt: skip
    service: dict[str, Any] = {
        "@type": "cpsv:PublicService",
        "dct:identifier": procedure.code,
        "dct:title": _texts(procedure.name, procedure.name_en),
        "dct:description": _texts(
            procedure.description or procedure.name, procedure.summary_en or procedure.name_en
        ),
        "dct:language": [_ref(VIETNAMESE)],
        "dct:spatial": [_ref(graph.location)],
        "cv:hasCompetentAuthority": authorities,
        "cv:hasChannel": channels,
        "cv:hasCost": costs,
        "cpsv:produces": _parts(
            graph, procedure, url, "cv:Output", ((r.name, {}) for r in procedure.results)
        ),
        "cpsv:hasInput": _parts(
            graph, procedure, url, "cv:Evidence", (_evidence(item) for item in procedure.dossier)
        ),
        "cv:hasLegalResource": legal,
        "dct:audience": [graph.concept(f"doi-tuong-{slugify(s.name)}", s.name)
                         for s in procedure.subjects],
        "cv:isClassifiedBy": [graph.concept(f"linh-vuc-{f.slug}", f.name)
                              for f in procedure.fields],
        "dcat:keyword": [_vi(word) for word in procedure.keywords or []],
        **_rules(graph, procedure, url, legal),
    }  # fmt: skip
    graph.add(f"{url}#dich-vu", {k: v for k, v in service.items() if v != []})


def catalogue_document(base: str, procedures: list[Procedure] | None = None) -> dict[str, Any]:
    """The published procedures (or `procedures`) as one CPSV-AP JSON-LD document."""
    graph = _Graph(base, queries.get_settings())
    if procedures is None:
        procedures = [
            p for p in queries.all_procedures(public=True) if p.status == Status.PUBLISHED
        ]
    for procedure in procedures:
        _service(graph, procedure)
    return {"@context": CONTEXT, "@graph": list(graph.nodes.values())}


def write(path: Path) -> int:
    """Write the CPSV-AP document to `path`; returns the number of services written. Raises
    NoBaseUrl (a ValidationError) when the site settings have no base URL."""
    document = catalogue_document(required_base(_("bản xuất CPSV-AP")))
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return sum(1 for node in document["@graph"] if node.get("@type") == "cpsv:PublicService")
