"""A longer schemathesis run over every /api/v1 operation of the demo portal than `make test`
does (tests/test_opendata_api.py): many more generated requests, valid and not. Prints, per
operation, the number of requests and their time; any 5xx or response outside the OpenAPI
description fails with schemathesis' report.

Run from the repository root: .venv/bin/python bench/api_fuzz.py [EXAMPLES-PER-OPERATION]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.catalogue import transfer
from services.db import create_schema
from services.opendata import openapi
from tests.helpers import make_app


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    app = make_app(Path(tempfile.mkdtemp()) / "instance")
    with app.app_context():
        create_schema()
        transfer.load_demo()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for path, item in openapi.document(None)["paths"].items():
        for method in item:
            calls = 0

            @given(case=schema[path][method.upper()].as_strategy())
            @settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def call(case):
                nonlocal calls
                calls += 1
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            started = time.perf_counter()
            call()
            print(
                f"{method.upper()} {path}: {calls} requests, {time.perf_counter() - started:.1f} s"
            )


if __name__ == "__main__":
    main()
