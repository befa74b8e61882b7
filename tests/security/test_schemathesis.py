"""Property-based API tests: schemathesis generates requests from /api/v1/openapi.json, valid
ones and invalid ones, and sends them in-process to the WSGI app with the bearer token of an
office user (admin) and of a technician. Every answer goes through ALL of schemathesis'
checks: no 5xx, documented status codes, content types, headers and body schemas, invalid
data refused, valid data accepted, authentication not ignored. Bounded (a few examples per
operation and mode) so it runs in `make test` and `make test-pg`."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation import GenerationMode

ROLES = ["admin", "tech1"]  # an office user with every office right, and a technician
EXAMPLES = 6  # per operation, mode and path-parameter choice


def all_checks():
    load_all_checks()
    return list(CHECKS.get_all())


@pytest.fixture
def api_schema(app, demo):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # A request that follows the schema can still break a business rule (end before
    # start, a closed job, an unknown technician): the API refuses it with a documented
    # 409 or 422 and the rule's code. The other accepted statuses are schemathesis' own.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx", "401", "403", "404", "409", "422"]
    return schema


@pytest.fixture
def tokens(api, demo):
    return {user: api.login(user, device=f"schemathesis-{user}")["token"] for user in ROLES}


def _summary(error) -> str:
    """The failure's names and first lines, without the long schema dumps."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("- ", "Validated", "Additional",
                                                         "Received", "Documented", "[", "curl",
                                                         "Reproduce", "Expected", "Invalid",
                                                         "Unsupported", "Hint"))]
    return " | ".join(keep[:14]) or " | ".join(lines[:8])


def _real_ids(api, demo) -> dict:
    """Path parameters that name real records, so the valid cases reach the handlers'
    answers (and their schemas), not only the 404s of generated ids."""
    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}", as_="admin").get_json()
    return {"job_id": jobs["items"][0]["id"]}


def test_api_conforms_to_its_spec_with_all_checks(api_schema, tokens, app, api, demo):
    """Every operation of the spec, positive and negative cases, as both roles."""
    from fieldapp.extensions import limiter

    checks = all_checks()
    assert len(checks) >= 14, [c.__name__ for c in checks]
    real = _real_ids(api, demo)
    failures, seen = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)
        pinned = {name: value for name, value in real.items()
                  if f"{{{name}}}" in operation.path}
        # A page cursor is opaque: only one the server made is valid (else 400 bad_cursor,
        # documented), so valid requests start from the first page.
        fixed_query = ({"cursor": ""} if (operation.method.upper(), operation.path)
                       == ("GET", "/api/v1/complaints") else None)
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                            query=fixed_query),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
        if pinned:
            strategies.append(operation.as_strategy(path_parameters=pinned))
        for strategy in strategies:

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                for user in ROLES:
                    with app.app_context():
                        limiter.reset()
                    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[user]}"},
                                           checks=checks)
                    if operation.path.endswith("/auth/logout"):  # the token is gone
                        tokens[user] = api.login(user, device=f"schemathesis-{user}")["token"]

            try:
                check()
            except (Exception, BaseExceptionGroup) as error:  # collect all, report together
                failures.append(f"{operation.label}: {_summary(error)}")
    assert len(seen) > 20, seen
    assert not failures, "\n\n".join(failures)
