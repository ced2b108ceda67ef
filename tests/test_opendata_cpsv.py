"""The CPSV-AP 3.2.0 export validated by pySHACL against the specification's own shapes (read in
place from ../shared/data/cpsv-ap): the demo catalogue and the real national catalogue have no
violation; a document that breaks the profile is caught, so the check can fail."""

from __future__ import annotations

import copy
import json
import random
import time

from services.catalogue import queries
from services.models import Status
from services.opendata import cpsv
from tests.opendata_shacl import violations

BASE = "http://127.0.0.1:5000/"
REAL_SAMPLE = 300


def _services(document: dict) -> list[dict]:
    return [node for node in document["@graph"] if node["@type"] == "cpsv:PublicService"]


def _has_authority(procedure) -> bool:
    return any(
        (link.agency or link.name) and link.role in cpsv.COMPETENT_ROLES
        for link in procedure.agency_links
    )


def test_the_demo_export_has_no_violation(demo_client, demo_app):
    response = demo_client.get("/api/v1/cpsv-ap.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.json
    count, report = violations(document)
    assert count == 0, report
    with demo_app.app_context():
        published = {
            p.code: p for p in queries.all_procedures(public=True) if p.status == Status.PUBLISHED
        }
    services = {s["dct:identifier"]: s for s in _services(document)}
    assert services.keys() == published.keys()
    for code, procedure in published.items():
        service = services[code]
        vietnamese = {"@value": procedure.name, "@language": "vi"}
        english = {"@value": procedure.name_en, "@language": "en"}
        # The English name staff wrote, when there is one, beside the Vietnamese.
        assert service["dct:title"] == ([vietnamese, english] if procedure.name_en else vietnamese)
        assert len(service.get("cpsv:hasInput", [])) == len(procedure.dossier)
        assert len(service.get("cv:hasChannel", [])) == len(procedure.channels)
        assert len(service.get("cpsv:produces", [])) == len(procedure.results)
        assert len(service.get("cv:hasLegalResource", [])) == len(procedure.legal_bases)


def test_a_document_that_breaks_the_profile_is_caught(demo_client):
    document = demo_client.get("/api/v1/cpsv-ap.jsonld").json
    broken = copy.deepcopy(document)
    service = _services(broken)[0]
    del service["dct:title"]
    service["cv:hasCompetentAuthority"] = []
    channel = next(n for n in broken["@graph"] if n["@type"] == "cv:Channel")
    channel["cv:processingTime"] = [
        {"@value": "P1D", "@type": "xsd:duration"},
        {"@value": "P2D", "@type": "xsd:duration"},
    ]
    count, report = violations(broken)
    assert count == 3, report
    assert "#dich-vu>->dc1:title" in report
    assert "#dich-vu>-><http://data.europa.eu/m8g/hasCompetentAuthority>" in report
    assert "More than 1 values on" in report
    assert "#kenh-1>-><http://data.europa.eu/m8g/processingTime>" in report


def test_flask_export_writes_the_same_document(demo_app, tmp_path):
    path = tmp_path / "cpsv.jsonld"
    result = demo_app.test_cli_runner().invoke(args=["export", "--format", "cpsv-ap", str(path)])
    assert result.exit_code == 0, result.output
    document = json.loads(path.read_text(encoding="utf-8"))
    assert f"Đã xuất {len(_services(document))} thủ tục" in result.output
    assert document == demo_app.test_client().get("/api/v1/cpsv-ap.jsonld").json


def test_without_a_base_url_the_export_says_why(app, runner, tmp_path, make_procedure):
    make_procedure()
    result = runner.invoke(args=["export", "--format", "cpsv-ap", str(tmp_path / "x.jsonld")])
    assert result.exit_code != 0
    assert "Chưa đặt địa chỉ trang thông tin (base_url)" in result.output
    assert not (tmp_path / "x.jsonld").exists()
    response = app.test_client().get("/api/v1/cpsv-ap.jsonld")
    assert response.status_code == 503
    assert "base_url" in response.json["error"]
    bad = runner.invoke(args=["export", "--format", "rdf", str(tmp_path / "x")])
    assert bad.exit_code == 2


def test_a_sample_of_the_real_catalogue_has_no_violation(portal_app):
    """A deterministic sample of the real catalogue (the whole: bench/cpsv_validate.py, figure in
    the README), so that this test stays under a minute."""
    with portal_app.app_context():
        published = [p for p in queries.all_procedures(public=True) if p.status == Status.PUBLISHED]
        sample = random.Random(12).sample(published, min(REAL_SAMPLE, len(published)))
        document = cpsv.catalogue_document(BASE, sample)
    started = time.perf_counter()
    count, report = violations(document)
    assert count == 0, report[:5000]
    assert len(_services(document)) == len(sample)
    unknown = {"@id": f"{BASE}#co-quan-chua-ro"}
    without = [s for s in _services(document) if s["cv:hasCompetentAuthority"] == [unknown]]
    assert len(without) == sum(1 for p in sample if not _has_authority(p))
    assert time.perf_counter() - started < 60


def test_a_procedure_naming_no_agency_says_its_authority_is_unknown(app, make_procedure):
    make_procedure(code="9.900001", agencies=[])
    make_procedure(code="9.900002", agencies=[{"role": "implementing", "agency": None,
                                               "name": "UBND xã Thử"}])  # fmt: skip
    with app.app_context():
        document = cpsv.catalogue_document(BASE, queries.all_procedures(public=True))
    nodes = {node["@id"]: node for node in document["@graph"]}
    services = {s["dct:identifier"]: s for s in _services(document)}
    unknown = nodes[services["9.900001"]["cv:hasCompetentAuthority"][0]["@id"]]
    assert unknown["skos:prefLabel"]["@value"] == "Chưa có thông tin về cơ quan thực hiện"
    named = nodes[services["9.900002"]["cv:hasCompetentAuthority"][0]["@id"]]
    assert named["skos:prefLabel"]["@value"] == "UBND xã Thử"
    assert violations(document)[0] == 0
