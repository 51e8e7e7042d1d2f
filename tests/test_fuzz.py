"""Schemathesis generates requests from the live server's own OpenAPI document: no input may cause a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings


def test_no_generated_input_causes_a_server_error(server):
    # Driven by hand rather than through schemathesis' pytest plugin, whose fixture loader
    # does not run under this pytest; the requests and the checks are the same.
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/articles/{article_id}", "/api/health"}
    seen: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            response = case.call(base_url=server.url, timeout=30)
            seen.append(f"{case.method} {case.path} {response.status_code}")
            assert response.status_code < 500, (case.method, case.path, case.query, case.body, response.text[:300])
            if 400 <= response.status_code < 500:
                error = response.json()["error"]
                assert error["code"] and error["message"]

        check()
    assert len(seen) >= 3 * len(operations)
