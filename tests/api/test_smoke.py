from tests.support.helpers import intake_body


def test_login_intake_and_get(api, demo):
    created = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body())
    assert created.status_code == 201, created.get_json()
    job = created.get_json()
    assert job["status"] == "new"
    assert [c["name"] for c in job["sla"]] == ["first_contact", "response", "resolution"]
    got = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1")
    assert got.status_code == 200
    assert got.get_json()["events"][0]["type"] == "created"
