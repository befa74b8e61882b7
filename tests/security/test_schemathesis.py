"""Property-based API tests: schemathesis generates requests from /api/v1/openapi.json and
sends them in-process to the WSGI app with a bearer token of each role. Every answer must be
documented in the spec (status code, content type, body schema) and none may be a server
error. Bounded (a few examples per operation) so it runs in `make test` and `make test-pg`."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks


ROLES = ["tech1", "dispatcher1", "supervisor1", "admin"]
# The checks that prove the contract: no 5xx, documented status codes, documented content
# types, bodies that match their schemas. (Negative-data checks are left out: the API
# purposely accepts what a schema does not forbid, e.g. unknown query parameters.)
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance,
          st_checks.content_type_conformance, st_checks.response_schema_conformance]


@pytest.fixture
def api_schema(app, demo):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def tokens(api, demo):
    return {user: api.login(user, device=f"schemathesis-{user}")["token"] for user in ROLES}


def _summary(error) -> str:
    """The failure's names and first lines, without the long schema dumps."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("- ST", "Validated", "Additional",
                                                         "Received", "Documented", "[", "curl",
                                                         "Reproduce"))]
    return " | ".join(keep[:12]) or " | ".join(lines[:6])


def test_api_conforms_to_its_spec(api_schema, tokens, app, api):
    """Every operation of the spec, a few generated requests each, as every role."""
    from hypothesis import given

    from fieldapp.extensions import limiter

    failures, seen = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            for user in ROLES:
                with app.app_context():
                    limiter.reset()
                case.call_and_validate(headers={"Authorization": f"Bearer {tokens[user]}"},
                                       checks=CHECKS)
                if operation.path.endswith("/auth/logout"):  # the token is gone: a new one
                    tokens[user] = api.login(user, device=f"schemathesis-{user}")["token"]

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # collect all, report together
            failures.append(f"{operation.label}: {_summary(error)}")
    assert len(seen) > 20, seen
    assert not failures, "\n\n".join(failures)
