"""Issue 14, the API's part: each class of malformed input answers a 4xx JSON error in the
contract's shape `{"error", "message", "details"}`, names the field when there is one, and
stores nothing; and the OpenAPI says so. Values are generated where the class is open
(text, dates, booleans), on SQLite and PostgreSQL alike."""
from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.helpers import intake_body

# Characters no database stores as sent: NUL (PostgreSQL refuses it) and lone surrogates.
UNSTORABLE = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code,
                                            response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error", "message", "details"}, body
    assert isinstance(body["details"], dict) and body["message"]
    return body


def _count(app, model_name: str) -> int:
    from fieldapp import models
    from fieldapp.extensions import db

    with app.app_context():
        return db.session.query(getattr(models, model_name)).count()


def _raw(payload) -> dict:
    """A JSON body with lone surrogates escaped as \\udXXX, as JavaScript sends them."""
    return {"data": json.dumps(payload), "content_type": "application/json"}


# --- deep nesting -----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [65, 1_000, 200_000])
@pytest.mark.parametrize("path,user", [("/api/v1/auth/login", None),
                                       ("/api/v1/jobs", "dispatcher1"),
                                       ("/api/v1/sync/push", "tech1")])
def test_deeply_nested_json_is_a_400(api, demo, path, user, depth):
    body = "[" * depth + "]" * depth
    response = api.post(path, as_=user, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"] == "bad_request"


def test_deep_nesting_is_named_as_the_reason(api, demo):
    nested = '{"username": ' + "[" * 5000 + "]" * 5000 + "}"
    body = _error(api.post("/api/v1/auth/login", data=nested,
                           content_type="application/json"), 400)
    assert body["details"] == {"reason": "too_deeply_nested"}


# --- bodies that are not UTF-8 JSON, or not JSON at all ---------------------------------

@pytest.mark.parametrize("payload", [b"\xff\xfe{\x00}\x00", b'{"problem": "\xed\xa0\x80"}',
                                     b'{"problem": "\xc3"}', "{}".encode("utf-16")])
def test_a_body_that_is_not_utf8_is_a_400(api, demo, app, payload):
    before = _count(app, "Job")
    body = _error(api.post("/api/v1/jobs", as_="dispatcher1", data=payload,
                           content_type="application/json"), 400)
    assert body["details"] == {"reason": "not_utf8"}
    assert _count(app, "Job") == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", "multipart/form-data; boundary=x"])
def test_a_json_body_sent_as_another_type_is_a_415(api, demo, app, content_type):
    before = _count(app, "Job")
    body = _error(api.post("/api/v1/jobs", as_="dispatcher1",
                           data=json.dumps(intake_body()), content_type=content_type), 415)
    assert body["error"] == "json_required"
    assert _count(app, "Job") == before


# --- text no database stores: NUL and lone surrogates, in every text field ------------

# Every text field of the intake and of the complaint intake, as paths into the body.
INTAKE_TEXT = [("problem",), ("product_model",), ("customer", "name"), ("customer", "phone"),
               ("customer", "address")]
COMPLAINT_TEXT = [("content",), ("customer", "name"), ("customer", "phone"),
                  ("customer", "address")]


def _with(body: dict, path: tuple, value) -> dict:
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _named(fields: dict, path: tuple):
    for key in path:
        fields = fields[key]
    return fields


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_nul_or_a_lone_surrogate_in_any_text_field_is_a_422_naming_it(api, demo, app, data):
    kind = data.draw(st.sampled_from(["job", "complaint"]))
    if kind == "job":
        path, base, url = data.draw(st.sampled_from(INTAKE_TEXT)), intake_body(), "/api/v1/jobs"
        model = "Job"
    else:
        path = data.draw(st.sampled_from(COMPLAINT_TEXT))
        base = {"about": "service", "severity": "general", "content": "上门迟到",
                "customer": {"name": "陈女士", "phone": "13912340001", "address": "上海"}}
        url, model = "/api/v1/complaints", "Complaint"
    good = _named(base, path)
    cut = data.draw(st.integers(0, len(good)))
    bad = good[:cut] + data.draw(UNSTORABLE) + good[cut:]
    before = _count(app, model)
    body = _error(api.post(url, as_="dispatcher1", **_raw(_with(base, path, bad))), 422)
    assert body["error"] == "validation_error"
    assert "NUL" in _named(body["details"]["fields"], path)[0]
    assert _count(app, model) == before


@pytest.mark.parametrize("path,payload", [
    ("notes", {"text": "a\x00b"}),
    ("contact", {"outcome": "reached", "note": "\ud800"}),
    ("", {"status": "cancelled", "reason": "x\x00"}),
])
def test_unstorable_text_on_job_actions_is_a_422(api, demo, app, path, payload):
    job_id = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"][0]["id"]
    url = f"/api/v1/jobs/{job_id}" + (f"/{path}" if path else "")
    before = _count(app, "JobEvent")
    method = api.patch if not path else api.post
    body = _error(method(url, as_="dispatcher1", **_raw(payload)), 422)
    assert set(body["details"]["fields"]) == set(payload) - {"outcome", "status"}
    assert _count(app, "JobEvent") == before


@pytest.mark.parametrize("query", ["/api/v1/complaints?q=%00", "/api/v1/sync/pull?cursor=a%00",
                                   "/api/v1/return-visits?job_id=%00"])
def test_nul_in_a_query_parameter_is_a_422_naming_it(api, demo, query):
    user = "tech1" if "sync" in query else "dispatcher1"
    body = _error(api.get(query, as_=user), 422)
    name = query.split("?")[1].split("=")[0]
    assert list(body["details"]["fields"]) == [name]


def test_a_lone_surrogate_as_a_field_name_is_refused_without_echoing_it(api, demo):
    response = api.post("/api/v1/auth/login", data='{"\\ud800": 1}',
                        content_type="application/json")
    body = _error(response, 422)
    assert "\\ud800" not in response.get_data(as_text=True)
    assert "_schema" in body["details"]["fields"]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_a_422_naming_the_field(api, demo, raw):
    response = api.post("/api/v1/return-visits/1/result", as_="dispatcher1",
                        data='{"score": %s}' % raw, content_type="application/json")
    body = _error(response, 422)
    assert body["details"]["fields"] == {"score": ["Numbers must be finite."]}


# --- dates out of range ----------------------------------------------------------------

OUT_OF_RANGE_DAYS = (st.dates(max_value=date(1999, 12, 31))
                     | st.dates(min_value=date(2100, 1, 1)))
OFFSETS = st.sampled_from(["+14:00", "-12:00", "Z", "+08:00", "-00:30"])


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(day=OUT_OF_RANGE_DAYS)
def test_a_list_date_out_of_range_is_a_422(api, demo, day):
    body = _error(api.get(f"/api/v1/jobs?date={day.isoformat()}", as_="dispatcher1"), 422)
    assert list(body["details"]["fields"]) == ["date"]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(day=OUT_OF_RANGE_DAYS, offset=OFFSETS, field=st.sampled_from(["scheduled_start",
                                                                     "scheduled_end"]))
def test_a_schedule_out_of_range_is_a_422_and_stores_nothing(api, demo, app, day, offset,
                                                             field):
    moment = f"{day.isoformat()}T{'23:59:59' if day.year > 2000 else '00:00:00'}{offset}"
    before = _count(app, "Job")
    body = _error(api.post("/api/v1/jobs", as_="dispatcher1",
                           json=intake_body(**{field: moment})), 422)
    assert field in body["details"]["fields"]
    assert _count(app, "Job") == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                    "0001-01-01T00:00:00Z"])
def test_the_reported_extremes_answer_422_on_patch_too(api, demo, moment):
    job_id = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"][0]["id"]
    body = _error(api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1",
                            json={"scheduled_start": moment}), 422)
    assert "scheduled_start" in body["details"]["fields"]


def test_in_range_dates_still_work(api, demo):
    assert api.get("/api/v1/jobs?date=2026-11-24", as_="dispatcher1").status_code == 200
    created = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        scheduled_start="2099-12-31T10:00:00+08:00", scheduled_end="2099-12-31T12:00:00+08:00"))
    assert created.status_code == 201, created.get_json()


# --- booleans: true or false only -------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", "no", "on", "True", 1, 0, "1", "", None, [], {}])
def test_a_json_boolean_is_true_or_false_only(api, demo, value):
    created = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "about": "service", "severity": "general", "content": "迟到",
        "customer": {"name": "陈女士", "phone": "13912340001"}}).get_json()
    response = api.post(f"/api/v1/complaints/{created['id']}/contacts", as_="dispatcher1",
                        json={"outcome": "reached", "satisfied": value})
    if value is None:  # satisfied may be left unsaid
        assert response.status_code == 201
        return
    body = _error(response, 422)
    assert list(body["details"]["fields"]) == ["satisfied"]


@pytest.mark.parametrize("path", ["/api/v1/notifications?unread=", "/api/v1/takebacks?overdue="])
@pytest.mark.parametrize("value,accepted", [("true", True), ("false", True), ("1", True),
                                            ("0", True), ("yes", False), ("on", False),
                                            ("True", False), ("2", False), ("", False)])
def test_a_query_flag_is_true_false_1_or_0(api, demo, path, value, accepted):
    response = api.get(path + value, as_="tech1")
    if accepted:
        assert response.status_code == 200, response.get_json()
    else:
        _error(response, 422)


def test_unknown_query_parameters_are_refused_everywhere(api, demo):
    for path, user in [("/api/v1/notifications?unred=1", "tech1"),
                       ("/api/v1/takebacks?overdu=true", "tech1"),
                       ("/api/v1/complaints?statuss=open", "dispatcher1"),
                       ("/api/v1/sync/pull?cursr=", "tech1")]:
        body = _error(api.get(path, as_=user), 422)
        assert list(body["details"]["fields"]) == [path.split("?")[1].split("=")[0]]


# --- 405 with Allow -----------------------------------------------------------------------

def test_every_api_405_says_what_is_allowed(app, api, demo):
    api.login("admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        refused = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - rule.methods)
        if not refused:
            continue
        path = rule.build({name: "1" for name in rule.arguments}, append_unknown=False)[1]
        response = api.call(refused[0], path, "admin")
        if response.status_code != 405:  # another rule on this path takes the method
            continue
        _error(response, 405)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed >= rule.methods - {"OPTIONS"}, (rule.rule, allowed)
        checked += 1
    assert checked > 20


def test_a_page_405_says_what_is_allowed_too(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# --- the OpenAPI says all this -----------------------------------------------------------

def _operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete", "head"):
                yield path, method, operation


def test_the_spec_documents_each_operations_errors_and_no_catch_all(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert "default" not in responses, (path, method)
        if operation.get("security") != []:
            assert "401" in responses, (path, method)
        if "{" in path and (path, method) != ("/api/v1/blobs/{sha256}", "put"):
            assert "404" in responses, (path, method)
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            assert "400" in responses, (path, method)  # not UTF-8 JSON, nested too deep
    paths = spec["paths"]
    assert "bad_sha256" in paths["/api/v1/blobs/{sha256}"]["put"]["responses"]["400"][
        "description"]
    push = paths["/api/v1/sync/push"]["post"]["responses"]["400"]["description"]
    assert "bad_seq" in push and "bad_batch" in push
    assert "bad_cursor" in paths["/api/v1/complaints"]["get"]["responses"]["400"]["description"]
    sha_param = [p for p in paths["/api/v1/blobs/{sha256}"]["put"].get("parameters", [])
                 + paths["/api/v1/blobs/{sha256}"].get("parameters", [])
                 if p["name"] == "sha256"]
    assert sha_param and sha_param[0]["schema"]["pattern"] == "^[0-9a-f]{64}$"


def test_the_spec_describes_strict_booleans(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    query = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/notifications"]["get"][
        "parameters"]}
    assert query["unread"]["type"] == "string"
    assert query["unread"]["enum"] == ["true", "false", "1", "0"]
    body = spec["components"]["schemas"]["ComplaintContact"]["properties"]["satisfied"]
    assert body["type"] == "boolean"
