"""The OpenAPI 3.1 description of /api/v1, kept true by tests (openapi-spec-validator, and
schemathesis over the running app in `make test`)."""

from __future__ import annotations

from typing import Any

TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
TEXTS = {"type": "array", "items": TEXT}
NUMBER = {"type": ["number", "null"]}
# Staff's English for foreign investors; "" when not translated.
ENGLISH = {"name_en": TEXT, "summary_en": TEXT}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(
    _ref("Error"),
    "Yêu cầu không hợp lệ hoặc không thực hiện được; thông báo bằng tiếng Việt, hoặc tiếng Anh "
    "với ?lang=en hay Accept-Language: en.",
)

CHANNEL = _object(
    {
        "kind": {"enum": ["direct", "online", "postal"]},
        "time_limit_value": NUMBER,
        "time_limit_unit": {"type": ["string", "null"]},
        "time_limit_text": NULLABLE_TEXT,
        "fee_text": NULLABLE_TEXT,
        "fee_amount": {"type": ["integer", "null"]},
        "note": NULLABLE_TEXT,
    }
)
DOSSIER_ITEM = _object(
    {
        "group": NULLABLE_TEXT,
        "name": TEXT,
        "originals": {"type": ["integer", "null"]},
        "copies": {"type": ["integer", "null"]},
        "required": {"type": ["boolean", "null"]},
        "note": NULLABLE_TEXT,
        "template_name": NULLABLE_TEXT,
        "template_url": NULLABLE_TEXT,
        "template_file": NULLABLE_TEXT,
    }
)
PROCEDURE_RECORD = _object(
    {
        "code": TEXT,
        "name": TEXT,
        **ENGLISH,
        "status": {"enum": ["draft", "in_review", "published", "abolished"]},
        "decision_number": NULLABLE_TEXT,
        "decision_date": NULLABLE_DATE,
        "levels": TEXTS,
        "procedure_type": NULLABLE_TEXT,
        "fields": TEXTS,
        "subjects": TEXTS,
        "agencies": {
            "type": "array",
            "items": _object({"role": TEXT, "agency": NULLABLE_TEXT, "name": NULLABLE_TEXT}),
        },
        "receiving_address": NULLABLE_TEXT,
        "online_level": {"type": ["string", "null"]},
        "keywords": TEXTS,
        "description": NULLABLE_TEXT,
        "requirements": NULLABLE_TEXT,
        "source_url": NULLABLE_TEXT,
        "online_url": NULLABLE_TEXT,
        "steps": TEXTS,
        "channels": {"type": "array", "items": CHANNEL},
        "dossier": {"type": "array", "items": DOSSIER_ITEM},
        "results": {"type": "array", "items": _object({"name": TEXT, "code": NULLABLE_TEXT})},
        "legal_bases": {
            "type": "array",
            "items": _object(
                {
                    "number": NULLABLE_TEXT,
                    "title": NULLABLE_TEXT,
                    "issued_date": NULLABLE_DATE,
                    "issuer": NULLABLE_TEXT,
                }
            ),
        },
        "related": TEXTS,
        "replaced_by": NULLABLE_TEXT,
        "abolished_reason": NULLABLE_TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
)
AGENCY_RECORD = _object(
    {
        "slug": TEXT,
        "name": TEXT,
        "short_name": NULLABLE_TEXT,
        **ENGLISH,
        "kind": TEXT,
        "parent": NULLABLE_TEXT,
        "position": {"type": "integer"},
        "address": NULLABLE_TEXT,
        "phone": NULLABLE_TEXT,
        "email": NULLABLE_TEXT,
        "website": NULLABLE_TEXT,
        "opening_hours": NULLABLE_TEXT,
        "description": NULLABLE_TEXT,
        "valid_from": NULLABLE_DATE,
        "valid_to": NULLABLE_DATE,
        "successor": NULLABLE_TEXT,
    }
)
SUMMARY = {
    "code": TEXT,
    "name": TEXT,
    **ENGLISH,
    "url": {"type": "string", "format": "uri-reference"},
    "agency": NULLABLE_TEXT,
    "fields": TEXTS,
    "levels": TEXTS,
}
FACET = _object({"value": TEXT, "name": TEXT, "count": {"type": "integer"}})
SEARCH_RESULT = _object(
    {
        **SUMMARY,
        "score": {"type": ["number", "null"]},
        "highlight": _object({"name": TEXT, "snippet": TEXT}),
    }
)
UPDATED_RESULT = _object({**SUMMARY, "status": TEXT, "updated_at": TIMESTAMP})
PROCEDURE_PAGE = {
    "type": "object",
    "required": ["total", "page", "per_page", "results"],
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "updated_since": {"type": "string", "format": "date-time"},
        "results": {"type": "array", "items": {"anyOf": [SEARCH_RESULT, UPDATED_RESULT]}},
        "facets": {"type": "object", "additionalProperties": {"type": "array", "items": FACET}},
        "suggestion": NULLABLE_TEXT,
        "corrected": {"type": "boolean"},
        "relaxed": {"type": "boolean"},
    },
}
CHANGE = _object(
    {
        "sequence": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time"},
        "code": TEXT,
        "kind": {"enum": ["published", "abolished"]},
        "name": TEXT,
        "summary": TEXTS,
        "url": {"type": "string", "format": "uri-reference"},
        "record": _ref("ProcedureRecord"),
    }
)


TIMES = {
    "type": "array",
    "items": _object({"unit": TEXT, "low": {"type": "number"}, "high": {"type": "number"}}),
}
FEE_RANGE = {
    "type": ["object", "null"],
    "properties": {"low": {"type": "number"}, "high": {"type": "number"}},
    "required": ["low", "high"],
}
JOURNEY_STEP = _object(
    {
        "title": TEXT,
        "title_en": TEXT,
        "note": TEXT,
        "note_en": TEXT,
        "optional": {"type": "boolean"},
        "mode": {"enum": ["all", "any"]},
        "procedures": TEXTS,
        "times": TIMES,
        "fee": FEE_RANGE,
    }
)
JOURNEY = _object(
    {
        "slug": TEXT,
        "name": TEXT,
        "name_en": TEXT,
        "summary": TEXT,
        "summary_en": TEXT,
        "position": {"type": "integer"},
        "published": {"type": "boolean"},
        "steps": {"type": "array", "items": JOURNEY_STEP},
        "totals": _object(
            {
                "times": TIMES,
                "fee": FEE_RANGE,
                "mixed_units": {"type": "boolean"},
                "untimed": {"type": "integer"},
                "unpriced": {"type": "integer"},
                "left_out": {"type": "integer"},
                "optional_steps": {"type": "integer"},
            }
        ),
        "url": TEXT,
    }
)
JOURNEY_LINE = _object(
    {
        "slug": TEXT,
        "name": TEXT,
        "name_en": TEXT,
        "summary": TEXT,
        "summary_en": TEXT,
        "steps": {"type": "integer"},
        "url": TEXT,
    }
)


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": TEXT,
            "description": description}  # fmt: skip


FILTER = {"type": "string", "maxLength": 200}
PROCEDURES = {
    "get": {
        "operationId": "listProcedures",
        "summary": "Tìm kiếm, liệt kê thủ tục; hoặc các thủ tục thay đổi từ một thời điểm",
        "parameters": [
            _query("q", {"type": "string", "maxLength": 500}, "Từ khóa tìm kiếm."),
            _query("agency", FILTER, "Tên đường dẫn (slug) của cơ quan thực hiện."),
            _query("field", FILTER, "Slug của lĩnh vực."),
            _query("level", FILTER, "Slug của cấp thực hiện."),
            _query("subject", FILTER, "Slug của đối tượng thực hiện."),
            _query("online", FILTER, "Mức dịch vụ công trực tuyến: full, partial, none."),
            _query("sort", {"enum": ["relevance", "name", "code", "updated"]}, "Thứ tự."),
            _query("page", {"type": "integer", "minimum": 1, "maximum": 10000}, "Trang."),
            _query(
                "per_page",
                {"type": "integer", "minimum": 1, "maximum": 100},
                "Số kết quả mỗi trang.",
            ),
            _query(
                "updated_since",
                {"type": "string"},
                "Ngày hoặc thời điểm ISO 8601 (không ghi múi giờ là UTC): chỉ các thủ tục công "
                "khai có thay đổi từ đó; không dùng cùng q hay bộ lọc.",
            ),
        ],
        "responses": {
            "200": _json(PROCEDURE_PAGE, "Một trang kết quả."),
            "400": ERROR,
            "503": ERROR,
        },
    }
}


def _one(operation: str, summary: str, parameter: dict, schema: dict) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": [parameter],
            "responses": {"200": _json(schema, summary), "404": ERROR},
        }
    }


def document(base: str | None) -> dict[str, Any]:
    """The description, with the server under the configured base URL (a path without one)."""
    server = f"{base}api/v1" if base else "/api/v1"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API thủ tục hành chính",
            "version": "1",
            "description": (
                "Danh mục thủ tục hành chính đã công bố, đọc được bằng máy: tìm kiếm, từng thủ "
                "tục, từng cơ quan theo định dạng tệp danh mục, danh sách thay đổi để đồng bộ, "
                "bản xuất CPSV-AP 3.2.0."
            ),
        },
        "servers": [{"url": server}],
        "paths": {
            "/procedures": PROCEDURES,
            "/procedures/{code}": _one(
                "getProcedure",
                "Một thủ tục công khai (bản ghi của tệp danh mục)",
                _path("code", "Mã thủ tục."),
                {
                    **PROCEDURE_RECORD,
                    "properties": {**PROCEDURE_RECORD["properties"], "url": {"type": "string"}},
                },
            ),
            "/agencies/{slug}": _one(
                "getAgency",
                "Một cơ quan (bản ghi của tệp danh mục) và các thủ tục của cơ quan",
                _path("slug", "Tên đường dẫn của cơ quan."),
                {
                    **AGENCY_RECORD,
                    "properties": {
                        **AGENCY_RECORD["properties"],
                        "url": {"type": "string"},
                        "procedures": TEXTS,
                        "abolished_procedures": TEXTS,
                    },
                },
            ),
            "/journeys": {
                "get": {
                    "operationId": "listJourneys",
                    "summary": "Các hành trình thủ tục đang hiện",
                    "responses": {
                        "200": _json(
                            _object({"journeys": {"type": "array", "items": JOURNEY_LINE}}),
                            "Các hành trình.",
                        )
                    },
                }
            },
            "/journeys/{slug}": _one(
                "getJourney",
                "Một hành trình: các bước, thời hạn và phí từng bước, tổng cộng",
                _path("slug", "Tên đường dẫn của hành trình."),
                JOURNEY,
            ),
            "/changes": {
                "get": {
                    "operationId": "listChanges",
                    "summary": "Các thay đổi đã công bố sau số thứ tự since, cũ trước mới sau",
                    "parameters": [
                        _query("since", {"type": "integer", "minimum": 0}, "Số thứ tự đã có."),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 1000},
                            "Số thay đổi tối đa.",
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            _object(
                                {
                                    "since": {"type": "integer"},
                                    "latest": {"type": "integer"},
                                    "next": {"type": "integer"},
                                    "changes": {"type": "array", "items": CHANGE},
                                }
                            ),
                            "Các thay đổi.",
                        ),
                        "400": ERROR,
                    },
                }
            },
            "/cpsv-ap.jsonld": {
                "get": {
                    "operationId": "exportCpsvAp",
                    "summary": "Toàn bộ thủ tục đang áp dụng theo CPSV-AP 3.2.0 (JSON-LD)",
                    "responses": {
                        "200": {
                            "description": "Tài liệu JSON-LD.",
                            "content": {
                                "application/ld+json": {
                                    "schema": _object(
                                        {"@context": {"type": "array"}, "@graph": {"type": "array"}}
                                    )
                                }
                            },
                        },
                        "503": ERROR,
                    },
                }
            },
            "/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Gợi ý tên thủ tục khi đang gõ",
                    "parameters": [_query("q", {"type": "string"}, "Chữ đã gõ.")],
                    "responses": {
                        "200": _json(
                            _object(
                                {
                                    "query": TEXT,
                                    "suggestions": {
                                        "type": "array",
                                        "items": _object(
                                            {
                                                "code": TEXT,
                                                "name": TEXT,
                                                "highlight": TEXT,
                                                "url": TEXT,
                                            }
                                        ),
                                    },
                                }
                            ),
                            "Tối đa tám gợi ý.",
                        )
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "Mô tả OpenAPI 3.1 này",
                    "responses": {"200": _json({"type": "object"}, "Mô tả OpenAPI.")},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {
                        "error": TEXT,
                        "status": {"type": "integer"},
                        "errors": {"type": "object", "additionalProperties": TEXT},
                    },
                },
                "ProcedureRecord": PROCEDURE_RECORD,
            }
        },
    }
