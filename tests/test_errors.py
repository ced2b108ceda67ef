"""Service errors that reach the factory become one status each, with the friendly page, or
JSON under /api/, in Vietnamese (app.register_errorhandlers)."""

from __future__ import annotations

import pytest

from services import search
from services.errors import Conflict, EditConflict, NotFound, PermissionDenied, ValidationError

ERRORS = {
    "not-found": (NotFound("Không có thứ này."), 404),
    "denied": (PermissionDenied("Không được phép."), 403),
    "conflict": (Conflict("Đã có bản mới hơn."), 409),
    "edit-conflict": (EditConflict({}, "p2"), 409),
    "invalid": (ValidationError({"q": "Giá trị không hợp lệ."}), 400),
    "unavailable": (search.SearchUnavailable("Tìm kiếm tạm thời gián đoạn."), 503),
}


@pytest.fixture
def failing_client(app):
    def fail(kind: str):
        raise ERRORS[kind][0]

    app.add_url_rule("/thu-loi/<kind>", "fail_page", fail)
    app.add_url_rule("/api/v1/thu-loi/<kind>", "fail_api", fail)
    return app.test_client()


@pytest.mark.parametrize("kind", ERRORS)
def test_a_service_error_is_a_page_with_its_status_and_message(failing_client, kind):
    error, status = ERRORS[kind]
    response = failing_client.get(f"/thu-loi/{kind}")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert str(error).split(":")[-1].strip() in response.text


@pytest.mark.parametrize("kind", ERRORS)
def test_a_service_error_under_the_api_is_json(failing_client, kind):
    error, status = ERRORS[kind]
    response = failing_client.get(f"/api/v1/thu-loi/{kind}")
    assert response.status_code == status
    assert response.json == {"error": str(error), "status": status}


def test_an_unknown_address_under_the_api_is_json_404(client):
    response = client.get("/api/v1/khong-co")
    assert response.status_code == 404
    assert response.json["status"] == 404
