"""schema.org JSON-LD, the canonical link and the sharing tags of the public pages, read from
the HTML as a crawler does and expanded with pyld (schema.org's context served locally: there is
no internet), then checked against the data each page shows."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from pyld import jsonld

from services.catalogue import queries
from services.models import Role, Status
from services.opendata.schema_org import iso_duration

S = "https://schema.org/"
BASE = "http://127.0.0.1:5000"  # the demo catalogue's base URL


def _loader(url: str, _options: dict | None = None) -> dict[str, Any]:
    assert url.rstrip("/") == "https://schema.org", url
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": S}}}


class _Head(HTMLParser):
    """The JSON-LD blocks, <link> and <meta> elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self.links: list[dict] = []
        self.meta: dict[str, str] = {}
        self._in_block = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "application/ld+json":
            self._in_block = True
            self.blocks.append("")
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "meta" and ("property" in attributes or "name" in attributes):
            key = attributes.get("property") or attributes.get("name")
            self.meta[key] = attributes.get("content", "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_block = False

    def handle_data(self, data):
        if self._in_block:
            self.blocks[-1] += data


def _head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def _expanded(html: str) -> list[dict]:
    blocks = _head(html).blocks
    assert len(blocks) == 1
    return jsonld.expand(json.loads(blocks[0]), {"documentLoader": _loader})


def _of_type(nodes: list[dict], kind: str) -> dict:
    return next(node for node in nodes if S + kind in node.get("@type", []))


def _values(node: dict, key: str) -> list:
    return [item.get("@value", item.get("@id")) for item in node.get(S + key, [])]


def _nested(node: dict, key: str) -> list[dict]:
    return node.get(S + key, [])


def _check_service(service: dict, procedure, site) -> None:
    url = f"{BASE}/thu-tuc/{procedure.code}"
    assert _values(service, "name") == [procedure.name]
    assert _values(service, "identifier") == [procedure.code]
    assert _values(service, "url") == [url]
    operators = [_values(o, "name")[0] for o in _nested(service, "serviceOperator")]
    assert operators == [link.display_name for link in procedure.agencies(Role.IMPLEMENTING)]
    channels = _nested(service, "availableChannel")
    assert len(channels) == len(procedure.channels)
    for shown, channel in zip(channels, procedure.channels, strict=True):
        duration = iso_duration(channel.time_limit_value, channel.time_limit_unit)
        assert _values(shown, "processingTime") == ([duration] if duration else [])
        assert _values(shown, "serviceUrl") == [url]
    assert sorted(_values(p, "name")[0] for p in _nested(service, "produces")) == sorted(
        r.name for r in procedure.results
    )
    audiences = [_values(a, "audienceType")[0] for a in _nested(service, "serviceAudience")]
    assert audiences == [s.name for s in procedure.subjects]
    assert [_values(a, "name")[0] for a in _nested(service, "areaServed")] == [site.locality]
    laws = [_values(law, "legislationIdentifier") for law in _nested(service, "subjectOf")]
    assert laws == [[b.number] if b.number else [] for b in procedure.legal_bases]
    prices = [
        (_values(o, "price"), _values(o, "priceCurrency")) for o in _nested(service, "offers")
    ]
    expected = [
        ([c.fee_amount] if c.fee_amount is not None else [], ["VND"])
        for c in procedure.channels
        if c.fee_amount is not None or c.fee_text
    ]
    assert prices == expected


def test_every_demo_procedure_page_describes_its_service(demo_app, demo_client):
    with demo_app.app_context():
        procedures = queries.all_procedures(public=True)
        site = queries.get_settings()
        assert site.locality
        assert len(procedures) > 20
        for procedure in procedures:
            page = demo_client.get(f"/thu-tuc/{procedure.code}")
            assert page.status_code == 200
            nodes = _expanded(page.text)
            _check_service(_of_type(nodes, "GovernmentService"), procedure, site)
            trail = _nested(_of_type(nodes, "BreadcrumbList"), "itemListElement")
            assert _values(trail[0], "item") == [f"{BASE}/"]
            assert _values(trail[-1], "item") == [f"{BASE}/thu-tuc/{procedure.code}"]
            assert [_values(i, "position")[0] for i in trail] == list(range(1, len(trail) + 1))
            if procedure.status == Status.PUBLISHED and procedure.main_agency:
                agency = procedure.main_agency
                assert _values(trail[1], "item") == [f"{BASE}/co-quan/{agency.slug}"]


def test_channels_name_their_kind_in_words(demo_client, demo_app):
    with demo_app.app_context():
        procedure = next(p for p in queries.all_procedures(public=True) if p.channels)
        kinds = [c.kind for c in procedure.channels]
    service = _of_type(
        _expanded(demo_client.get(f"/thu-tuc/{procedure.code}").text), "GovernmentService"
    )
    names = [_values(c, "name")[0] for c in _nested(service, "availableChannel")]
    words = {"direct": "Trực tiếp", "online": "Trực tuyến", "postal": "Dịch vụ bưu chính"}
    assert names == [words[k] for k in kinds]


def test_every_agency_page_describes_its_organisation(demo_app, demo_client):
    with demo_app.app_context():
        agencies = [node.agency for node in queries.agency_tree()]
        agencies += [child.agency for node in queries.agency_tree() for child in node.children]
        for agency in agencies:
            nodes = _expanded(demo_client.get(f"/co-quan/{agency.slug}").text)
            organisation = _of_type(nodes, "GovernmentOrganization")
            assert _values(organisation, "name") == [agency.name]
            assert _values(organisation, "url") == [f"{BASE}/co-quan/{agency.slug}"]
            assert _values(organisation, "telephone") == ([agency.phone] if agency.phone else [])
            parents = _nested(organisation, "parentOrganization")
            assert [_values(p, "name")[0] for p in parents] == (
                [agency.parent.name] if agency.parent else []
            )
            trail = _nested(_of_type(nodes, "BreadcrumbList"), "itemListElement")
            assert _values(trail[-1], "item") == [f"{BASE}/co-quan/{agency.slug}"]


def test_pages_have_a_canonical_link_and_sharing_tags(demo_app, demo_client):
    with demo_app.app_context():
        procedure = queries.recent_procedures(1)[0]
        code, name, agency = procedure.code, procedure.name, procedure.main_agency.display_name
    head = _head(demo_client.get(f"/thu-tuc/{code}?tu=zalo").text)
    canonical = [link["href"] for link in head.links if link.get("rel") == "canonical"]
    assert canonical == [f"{BASE}/thu-tuc/{code}"]
    assert head.meta["og:title"] == name
    assert head.meta["og:url"] == f"{BASE}/thu-tuc/{code}"
    assert head.meta["og:description"].startswith(agency + " · ")
    assert head.meta["twitter:card"] == "summary"
    assert head.meta["twitter:title"] == name
    for path in ("/", "/co-quan", "/linh-vuc", "/tim-kiem?q=khai+sinh", "/api/v1/docs"):
        head = _head(demo_client.get(path).text)
        canonical = [link["href"] for link in head.links if link.get("rel") == "canonical"]
        assert canonical == [BASE + path.split("?")[0]], path
        assert head.meta["og:title"], path


@pytest.fixture
def no_base(app, make_agency, make_procedure):
    agency = make_agency(slug="phong-khong-dia-chi")
    link = [{"role": "implementing", "agency": agency.slug, "name": ""}]
    return make_procedure(code="9.999001", agencies=link)


def test_without_a_base_url_there_is_no_json_ld_and_links_are_paths(app, no_base, caplog):
    client = app.test_client()
    page = client.get("/thu-tuc/9.999001", headers={"Host": "evil.example"})
    head = _head(page.text)
    assert head.blocks == []
    assert "no JSON-LD" in caplog.text
    assert [link["href"] for link in head.links if link.get("rel") == "canonical"] == [
        "/thu-tuc/9.999001"
    ]
    assert "og:url" not in head.meta
    assert "evil.example" not in page.text


def test_a_forged_host_never_reaches_json_ld_or_canonical_links(demo_app, demo_client):
    with demo_app.app_context():
        code = queries.recent_procedures(1)[0].code
        slug = queries.agency_tree()[0].agency.slug
    for path in (f"/thu-tuc/{code}", f"/co-quan/{slug}", "/"):
        page = demo_client.get(path, headers={"Host": "evil.example"})
        assert page.status_code == 200
        assert "evil.example" not in page.text, path
