"""The open-data API: one procedure or agency in the catalogue file's shape, links from the
configured base URL only, the OpenAPI 3.1 description (validated by openapi-spec-validator) and
schemathesis over it against the running app (no 5xx, no response outside the schema), the
Swagger UI page from static files."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.catalogue import convert, queries
from services.models import Status
from services.opendata import openapi

BASE = "http://127.0.0.1:5000"
MAX_EXAMPLES = 12


def test_one_procedure_in_the_catalogue_files_shape(demo_app, demo_client):
    with demo_app.app_context():
        procedure = queries.recent_procedures(1)[0]
        record = convert.procedure_record(procedure)
    response = demo_client.get(f"/api/v1/procedures/{procedure.code}")
    assert response.status_code == 200
    assert response.json == {**record, "url": f"{BASE}/thu-tuc/{procedure.code}"}


def test_one_agency_in_the_catalogue_files_shape(demo_app, demo_client):
    with demo_app.app_context():
        agency = queries.agency_tree()[0].agency
        record = convert.agency_record(agency)
        codes = sorted(
            p.code for group in queries.agency_procedures(agency) for p in group.procedures
        )
    response = demo_client.get(f"/api/v1/agencies/{agency.slug}")
    assert response.status_code == 200
    body = response.json
    assert {key: body[key] for key in record} == record
    assert body["url"] == f"{BASE}/co-quan/{agency.slug}"
    assert body["procedures"] == codes


def test_unknown_drafts_and_missing_are_not_found_in_vietnamese(staff_app):
    client = staff_app.test_client()
    assert client.get("/api/v1/procedures/1.000001").status_code == 200
    draft = client.get("/api/v1/procedures/1.000002")  # a draft: not public
    assert draft.status_code == 404
    assert draft.json["error"] == "Không tìm thấy thủ tục có mã “1.000002”."
    missing = client.get("/api/v1/agencies/khong-co")
    assert missing.status_code == 404
    assert "Không tìm thấy cơ quan" in missing.json["error"]


def test_without_a_base_url_the_api_gives_paths_and_never_the_host(staff_app):
    client = staff_app.test_client()
    forged = {"Host": "evil.example"}
    one = client.get("/api/v1/procedures/1.000001", headers=forged).json
    assert one["url"] == "/thu-tuc/1.000001"
    listed = client.get("/api/v1/procedures", headers=forged).json
    assert [r["url"] for r in listed["results"]] == ["/thu-tuc/1.000001"]
    description = client.get("/api/v1/openapi.json", headers=forged).json
    assert description["servers"] == [{"url": "/api/v1"}]


def test_with_a_base_url_a_forged_host_never_appears(demo_app, demo_client):
    with demo_app.app_context():
        procedure = queries.recent_procedures(1)[0]
        slug = procedure.main_agency.slug
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in (
        "/api/v1/procedures",
        "/api/v1/procedures?q=khai+sinh",
        f"/api/v1/procedures/{procedure.code}",
        f"/api/v1/agencies/{slug}",
        "/api/v1/openapi.json",
        "/api/v1/cpsv-ap.jsonld",
        "/sitemap.xml",
        "/robots.txt",
    ):
        response = demo_client.get(path, headers=forged)
        assert response.status_code == 200, path
        assert "evil.example" not in response.text, path
        assert BASE in response.text, path


def test_the_description_is_valid_openapi_3_1_and_covers_every_endpoint(demo_app, demo_client):
    description = demo_client.get("/api/v1/openapi.json").json
    validate(description)
    assert description["openapi"] == "3.1.0"
    assert description["servers"] == [{"url": f"{BASE}/api/v1"}]
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for rule in demo_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.docs"
    }
    assert routes == set(description["paths"])


def test_a_broken_description_is_refused_by_the_validator(demo_client):
    description = demo_client.get("/api/v1/openapi.json").json
    description["paths"]["/changes"]["get"]["parameters"][0]["in"] = "body"  # OpenAPI 2 only
    with pytest.raises(OpenAPIValidationError):
        validate(description)


def test_the_docs_page_renders_the_description_from_static_files(demo_client):
    page = demo_client.get("/api/v1/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts, "the renderer is loaded"
    assert all('src="' in attributes and body.strip() == "" for attributes, body in scripts)
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert demo_client.get(src).status_code == 200, src
    assert 'data-spec="/api/v1/openapi.json"' in page.text
    assert "SwaggerUIBundle" in demo_client.get("/static/js/api-docs.js").text
    assert demo_client.get("/static/vendor/swagger-ui/LICENSE").status_code == 200


OPERATIONS = [
    (method.upper(), path)
    for path, item in openapi.document(None)["paths"].items()
    for method in item
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_to_its_description(demo_app, method, path):
    """No 5xx and no response outside the description, for generated valid and invalid input
    of every operation (a longer run: bench/api_fuzz.py)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def call(case):
        # A well-formed filter naming no agency or lĩnh vực is refused with 400 and a message:
        # right for the API, so "schema-valid input is accepted" is not asked.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    call()


def test_published_and_abolished_statuses_are_described():
    assert set(openapi.PROCEDURE_RECORD["properties"]["status"]["enum"]) == set(Status)
