"""The public seal check: the report's QR code opens /verify/<digest> with no login; it says
whether the record still matches, and shows no customer data."""
import re

from sqlalchemy import update

from tests.review.test_review_pages import pdf_text
from tests.support.review_kit import approved_job


def test_anyone_holding_the_report_can_check_its_seal(app, api, demo, client):
    job = approved_job(api, demo)
    digest = job["seal"]["digest"]
    assert job["seal"]["public_verify_url"] == f"/verify/{digest}"
    response = client.get(f"/verify/{digest}")  # no login
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "verdict-ok" in html and job["ref"] in html and digest in html
    assert job["product_model"] in html
    # The customer's name, phone and address are not on a page anyone with a link can open.
    for private in ("陈女士", "13912340001", "锦绣路"):
        assert private not in html
    assert "<script>" not in html and " style=" not in html


def test_a_changed_record_shows_as_not_matching_without_saying_what(app, api, demo, client):
    from fieldapp.extensions import db
    from fieldapp.models import Job

    job = approved_job(api, demo)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job["id"]).values(problem="改过了"))
        db.session.commit()
    html = client.get(f"/verify/{job['seal']['digest']}").get_data(as_text=True)
    assert "verdict-bad" in html and "verdict-ok" not in html
    assert "改过了" not in html and "record_changed" not in html


def test_unknown_or_malformed_digests_are_not_found(client, demo):
    assert client.get("/verify/" + "0" * 64).status_code == 404
    assert client.get("/verify/not-a-digest").status_code == 404
    assert client.get("/verify/" + "A" * 64).status_code == 404


def test_the_report_links_to_the_public_check(app, api, demo, tmp_path):
    job = approved_job(api, demo)
    app.config["PUBLIC_BASE_URL"] = "https://service.example.cn"
    data = api.get(f"/api/v1/jobs/{job['id']}/report.pdf?lang=zh", as_="supervisor1").data
    text = re.sub(r"\s+", "", pdf_text(data, tmp_path))
    assert f"https://service.example.cn/verify/{job['seal']['digest']}" in text
