"""Helpers shared by the sign-off tests (tests/review)."""
from __future__ import annotations

from tests.support.helpers import complete_job


def tech_jobs(api, demo, tech="tech1") -> dict:
    """The technician's demo jobs by type (the first of each type)."""
    response = api.get(f"/api/v1/jobs?technician_id={demo[tech]}", as_="dispatcher1")
    out = {}
    for job in response.get_json()["items"]:
        out.setdefault(job["type"], job)
    return out


def get(api, job_id, as_="dispatcher1"):
    response = api.get(f"/api/v1/jobs/{job_id}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def review(api, job_id, as_="supervisor1", **body):
    return api.post(f"/api/v1/jobs/{job_id}/review", as_=as_, json=body)


def approved_job(api, demo, kind="repair", tech="tech1", seed=0, comment="好") -> dict:
    job = tech_jobs(api, demo, tech)[kind]
    complete_job(api, job["id"], tech=tech, seed=seed)
    response = review(api, job["id"], decision="approve", comment=comment)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def verify(app):
    return app.test_cli_runner().invoke(args=["verify"])
