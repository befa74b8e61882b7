"""Bad input to every endpoint that takes a body: a 4xx JSON error in the contract's shape,
and nothing stored."""
import pytest

from tests.support.helpers import complete_job, intake_body

SH_10 = "2026-11-26T10:00:00+08:00"
SH_12 = "2026-11-26T12:00:00+08:00"


def _customer(**overrides):
    customer = dict(intake_body()["customer"])
    customer.update(overrides)
    return {k: v for k, v in customer.items() if v is not ...}


def _without(body, key):
    return {k: v for k, v in body.items() if k != key}


# A body is a dict/list/None sent as JSON, or ("raw", data, content_type).
JOB_CREATE = {
    "empty": {},
    "missing type": _without(intake_body(), "type"),
    "missing customer": _without(intake_body(), "customer"),
    "missing customer phone": intake_body(customer=_customer(phone=...)),
    "missing customer name": intake_body(customer=_customer(name=...)),
    "missing product_model": _without(intake_body(), "product_model"),
    "missing problem": _without(intake_body(), "problem"),
    "missing channel": _without(intake_body(), "channel"),
    "blank problem": intake_body(problem=""),
    "blank customer name": intake_body(customer=_customer(name="")),
    "type wrong type": intake_body(type=1),
    "customer wrong type": intake_body(customer="陈女士 13912340001"),
    "phone wrong type": intake_body(customer=_customer(phone=13912340001)),
    "technician_id as string": intake_body(technician_id="1", scheduled_start=SH_10),
    "technician_id as float": intake_body(technician_id=1.5, scheduled_start=SH_10),
    "technician_id as bool": intake_body(technician_id=True, scheduled_start=SH_10),
    "problem wrong type": intake_body(problem=["扶手松动"]),
    "unknown field": intake_body(colour="red"),
    "unknown customer field": intake_body(customer=_customer(nickname="Chen")),
    "bad type enum": intake_body(type="cleaning"),
    "bad channel enum": intake_body(channel="fax"),
    "bad priority enum": intake_body(priority="high"),
    "bad date": intake_body(scheduled_start="tomorrow morning"),
    "impossible date": intake_body(scheduled_start="2026-13-40T10:00:00+08:00"),
    "naive date": intake_body(scheduled_start="2026-11-26T10:00:00"),
    "date as number": intake_body(scheduled_start=1764122400),
    "end before start": intake_body(scheduled_start=SH_12, scheduled_end=SH_10),
    "phone without digits": intake_body(customer=_customer(phone="call me maybe")),
    "bad email": intake_body(customer=_customer(email="not-an-email")),
    "technician not a technician": "TECH_IS_DISPATCHER",
    "technician unknown": intake_body(technician_id=999999, scheduled_start=SH_10),
    "technician without schedule": "TECH_NO_SCHEDULE",
    "json array": [intake_body()],
    "json null": None,
    "json string": "repair",
    "form encoded": ("raw", "type=repair&channel=phone", "application/x-www-form-urlencoded"),
    "plain text": ("raw", "type: repair", "text/plain"),
    "broken json": ("raw", '{"type": "repair",', "application/json"),
    "no body": ("raw", "", "application/json"),
    "huge problem": intake_body(problem="x" * 5000),
}

JOB_PATCH = {
    "empty": {},
    "unknown field": {"priority": "urgent"},
    "unknown field with valid one": {"scheduled_start": SH_10, "scheduled_end": SH_12,
                                     "colour": "red"},
    "technician_id as string": {"technician_id": "2"},
    "technician_id as float": {"technician_id": 2.5},
    "technician unknown": {"technician_id": 999999},
    "bad date": {"scheduled_start": "next tuesday"},
    "naive date": {"scheduled_start": "2026-11-26T10:00:00", "scheduled_end": SH_12},
    "date as number": {"scheduled_start": 1764122400},
    "end before start": {"scheduled_start": SH_12, "scheduled_end": SH_10},
    "status not cancellable here": {"status": "approved"},
    "status unknown": {"status": "done"},
    "status wrong type": {"status": 7},
    "cancel without reason": {"status": "cancelled"},
    "cancel blank reason": {"status": "cancelled", "reason": "  "},
    "reason wrong type": {"status": "cancelled", "reason": 42},
    "reason alone": {"reason": "顾客要求"},
    "json array": [{"status": "cancelled", "reason": "x"}],
    "json null": None,
    "form encoded": ("raw", "status=cancelled&reason=x", "application/x-www-form-urlencoded"),
    "broken json": ("raw", '{"status": ', "application/json"),
    "plain text": ("raw", "cancel it", "text/plain"),
}

CONTACT = {
    "empty": {},
    "missing outcome": {"note": "打了电话"},
    "bad outcome enum": {"outcome": "maybe"},
    "outcome wrong type": {"outcome": 1},
    "note wrong type": {"outcome": "reached", "note": 5},
    "unknown field": {"outcome": "reached", "duration": 30},
    "note too long": {"outcome": "reached", "note": "x" * 2001},
    "json array": [{"outcome": "reached"}],
    "form encoded": ("raw", "outcome=reached", "application/x-www-form-urlencoded"),
    "broken json": ("raw", "{outcome: reached}", "application/json"),
}

REVIEW = {
    "empty": {},
    "missing decision": {"comment": "好"},
    "bad decision enum": {"decision": "maybe"},
    "decision wrong type": {"decision": True},
    "comment wrong type": {"decision": "rework", "comment": ["x"]},
    "unknown field": {"decision": "approve", "score": 5},
    "rework without comment": {"decision": "rework"},
    "rework blank comment": {"decision": "rework", "comment": "   "},
    "json array": [{"decision": "approve"}],
    "form encoded": ("raw", "decision=approve", "application/x-www-form-urlencoded"),
    "broken json": ("raw", '{"decision": "approve"', "application/json"),
}

LOGIN = {
    "empty": {},
    "missing password": {"username": "tech1", "device_name": "phone"},
    "missing username": {"password": "fieldapp-demo", "device_name": "phone"},
    "missing device_name": {"username": "tech1", "password": "fieldapp-demo"},
    "blank username": {"username": "", "password": "fieldapp-demo", "device_name": "p"},
    "username wrong type": {"username": 1, "password": "fieldapp-demo", "device_name": "p"},
    "password wrong type": {"username": "tech1", "password": None, "device_name": "p"},
    "unknown field": {"username": "tech1", "password": "fieldapp-demo", "device_name": "p",
                      "remember": True},
    "bad device_id": {"username": "tech1", "password": "fieldapp-demo", "device_name": "p",
                      "device_id": "not-a-uuid"},
    "json array": [{"username": "tech1", "password": "fieldapp-demo", "device_name": "p"}],
    "json null": None,
    "form encoded": ("raw", "username=tech1&password=fieldapp-demo&device_name=p",
                     "application/x-www-form-urlencoded"),
    "broken json": ("raw", '{"username": "tech1"', "application/json"),
}

CASES = ([("jobs.create", k, v) for k, v in JOB_CREATE.items()]
         + [("jobs.patch", k, v) for k, v in JOB_PATCH.items()]
         + [("jobs.contact", k, v) for k, v in CONTACT.items()]
         + [("jobs.review", k, v) for k, v in REVIEW.items()]
         + [("auth.login", k, v) for k, v in LOGIN.items()])


def _counts(app):
    from fieldapp import models
    from fieldapp.extensions import db

    with app.app_context():
        return {name: db.session.query(getattr(models, name)).count()
                for name in ("Job", "Customer", "JobEvent", "ContactAttempt", "Review",
                             "Note", "SlaClock", "JobAssignment", "Device", "LoginFailure")}


def _job_state(api, job_id):
    job = api.get(f"/api/v1/jobs/{job_id}", as_="admin").get_json()
    return {k: job[k] for k in ("status", "status_reason", "technician_id", "scheduled_start",
                                "scheduled_end", "updated_at", "review", "sla")}


@pytest.mark.parametrize("endpoint,case,body", CASES, ids=[f"{e}-{c}" for e, c, _ in CASES])
def test_bad_input_answers_4xx_and_stores_nothing(api, app, demo, endpoint, case, body):
    job_id = None
    if endpoint in ("jobs.patch", "jobs.contact", "jobs.review"):
        jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}",
                       as_="dispatcher1").get_json()["items"]
        job_id = [j for j in jobs if j["type"] == "repair"][0]["id"]
        if endpoint == "jobs.review":
            complete_job(api, job_id)
    if body == "TECH_IS_DISPATCHER":
        body = intake_body(technician_id=demo["dispatcher1"], scheduled_start=SH_10)
    if body == "TECH_NO_SCHEDULE":
        body = intake_body(technician_id=demo["tech1"])
    for user in ("dispatcher1", "supervisor1", "admin"):
        api.login(user)

    method, path, user = {
        "jobs.create": ("POST", "/api/v1/jobs", "dispatcher1"),
        "jobs.patch": ("PATCH", f"/api/v1/jobs/{job_id}", "dispatcher1"),
        "jobs.contact": ("POST", f"/api/v1/jobs/{job_id}/contact", "dispatcher1"),
        "jobs.review": ("POST", f"/api/v1/jobs/{job_id}/review", "supervisor1"),
        "auth.login": ("POST", "/api/v1/auth/login", None),
    }[endpoint]
    if isinstance(body, tuple):
        _, data, content_type = body
        kwargs = {"data": data, "content_type": content_type}
    else:
        kwargs = {"json": body}

    counts = _counts(app)
    state = _job_state(api, job_id) if job_id else None
    response = api.call(method, path, user, **kwargs)

    assert 400 <= response.status_code < 500, (response.status_code,
                                                response.get_data(as_text=True)[:400])
    assert response.status_code not in (401, 403, 404)
    error = response.get_json()
    assert isinstance(error, dict) and set(error) == {"error", "message", "details"}, error
    assert isinstance(error["error"], str) and error["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert _counts(app) == counts
    if job_id:
        assert _job_state(api, job_id) == state


def test_validation_errors_name_the_fields(api, demo):
    response = api.post("/api/v1/jobs", as_="dispatcher1",
                        json=intake_body(type="cleaning", colour="red",
                                         customer=_customer(phone=...)))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_error"
    fields = body["details"]["fields"]
    assert {"type", "colour", "customer"} <= set(fields)
    assert "phone" in fields["customer"]


def test_good_bodies_of_the_same_shapes_are_accepted(api, demo):
    """The control for the table above: the valid forms go through."""
    created = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        priority="urgent", scheduled_start=SH_10, scheduled_end=SH_12,
        technician_id=demo["tech2"], customer=_customer(email="chen@example.com")))
    assert created.status_code == 201, created.get_json()
    job_id = created.get_json()["id"]
    assert api.post(f"/api/v1/jobs/{job_id}/contact", as_="dispatcher1",
                    json={"outcome": "reached"}).status_code == 201
    assert api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1",
                     json={"scheduled_start": "2026-11-27T10:00:00Z",
                           "scheduled_end": "2026-11-27T12:00:00Z"}).status_code == 200
    assert api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1",
                     json={"status": "cancelled", "reason": "x"}).status_code == 200
