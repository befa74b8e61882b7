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
from schemathesis import checks as st_checks
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation import GenerationMode

from tests.test_cli import run

ROLES = ["admin", "tech1"]  # an office user with every office right, and a technician
EXAMPLES = 6  # per operation, mode and path-parameter choice


def _headers(token: str) -> dict:
    # The WSGI transport hands schemathesis the bytes as sent, where an HTTP client would
    # first undo a Content-Encoding: ask for none (compression: tests/web/test_pwa_shell.py).
    return {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}


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
                    case.call_and_validate(headers=_headers(tokens[user]),
                                           checks=checks)
                    if operation.path.endswith("/auth/logout"):  # the token is gone
                        tokens[user] = api.login(user, device=f"schemathesis-{user}")["token"]

            try:
                check()
            except (Exception, BaseExceptionGroup) as error:  # collect all, report together
                failures.append(f"{operation.label}: {_summary(error)}")
    assert len(seen) > 20, seen
    assert not failures, "\n\n".join(failures)


def _history_ids(api) -> dict[str, list[str]]:
    """Real ids of every kind a GET takes, from the demo's past days of work."""
    def items(path):
        return api.get(path, as_="admin").get_json()["items"]

    jobs = items("/api/v1/jobs?limit=500")
    detailed = [api.get(f"/api/v1/jobs/{j['id']}", as_="admin").get_json() for j in jobs]
    blobs = [p["sha256"] for job in detailed for p in job["photos"]]
    return {
        "job_id": [j["id"] for j in jobs],
        "complaint_id": [c["id"] for c in items("/api/v1/complaints")],
        "request_id": [p["id"] for p in items("/api/v1/parts-requests")],
        "receipt_id": [t["receipt_id"] for t in items("/api/v1/takebacks")],
        "sha256": blobs[:3],
    }


def test_real_records_answer_as_documented(app, api):
    """Every GET of the spec on the real records of the demo's history (complaints with
    contacts and spawned jobs, parts requests, take-backs, return visits, sealed jobs), as
    both roles, through all the checks: what the server answers is what the spec says,
    field for field (the response schemas forbid fields they do not name)."""
    assert run(app, "seed-demo", "--history").exit_code == 0
    ids = _history_ids(api)
    assert all(ids.values()), ids  # the history has records of every kind
    tokens = {user: api.login(user, device=f"conformance-{user}")["token"] for user in ROLES}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = all_checks()
    failures, calls = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in ("GET", "HEAD"):
            continue
        names = [p.name for p in operation.path_parameters]
        choices = [dict(zip(names, values)) for values in zip(*(ids[n] for n in names))] \
            if names else [{}]
        for path_parameters in choices:
            case = operation.Case(path_parameters=path_parameters)
            for user in ROLES:
                calls += 1
                try:
                    case.call_and_validate(
                        headers=_headers(tokens[user]), checks=checks)
                except (Exception, BaseExceptionGroup) as error:
                    failures.append(f"{operation.label} {path_parameters} as {user}: "
                                    f"{_summary(error)}")
    # And the writes whose answers are records of these kinds, once each on a real record.
    due = [v for v in api.get("/api/v1/return-visits?status=due", as_="admin").get_json()["items"]]
    pending = api.get("/api/v1/parts-requests?status=pending", as_="admin").get_json()["items"]
    open_complaints = [c for c in api.get("/api/v1/complaints", as_="admin").get_json()["items"]
                       if c["status"] != "closed"]
    writes = [("POST", "/api/v1/complaints/{complaint_id}/contacts",
               {"complaint_id": open_complaints[0]["id"]},
               {"outcome": "reached", "note": "回访", "satisfied": False}),
              ("POST", "/api/v1/complaints/{complaint_id}/jobs",
               {"complaint_id": open_complaints[0]["id"]}, {"type": "inspection"}),
              ("POST", "/api/v1/return-visits/{visit_id}/result", {"visit_id": due[0]["id"]},
               {"score": 5, "comment": "满意"}),
              ("POST", "/api/v1/parts-requests/{request_id}/decision",
               {"request_id": pending[0]["id"]},
               {"decision": "approve", "cause": pending[0]["cause"] or "manufacturing_defect"})]
    for method, path, path_parameters, body in writes:
        case = schema[path][method].Case(path_parameters=path_parameters, body=body,
                                          media_type="application/json")
        response = case.call(headers=_headers(tokens["admin"]))
        assert response.status_code < 300, (path, response.text[:300])
        try:
            case.validate_response(response, checks=[st_checks.response_schema_conformance,
                                                     st_checks.not_a_server_error])
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{method} {path}: {_summary(error)}")
    assert calls > 40, calls
    assert not failures, "\n\n".join(failures)
