"""CSV formula injection: no cell of any CSV the product writes starts with what a
spreadsheet runs as a formula (`=`, `+`, `-`, `@`, tab, CR); such text is kept, behind `'`."""
from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp.csvfile import BOM, FORMULA_STARTS, csv_text, safe_cell
from tests.support.helpers import intake_body, sync_push
from tests.support.web_kit import signed_in_client

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+cmd|' /C calc'!A0", "-2+3+cmd",
           "@SUM(1+1)*cmd", "\t=1+1", "\r=1+1"]


def read(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data(as_text=True)
    assert raw.startswith(BOM) and raw.count(BOM) == 1  # one BOM, one header row
    return list(csv.reader(io.StringIO(raw[1:])))


def assert_no_formula(rows, expected_texts):
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        assert not cell.startswith(FORMULA_STARTS), repr(cell)
    for text in expected_texts:
        # Kept as it was typed (whitespace the API trims aside), behind one quote.
        assert any(cell.startswith("'") and text.strip() in cell for cell in cells), text


@given(st.lists(st.lists(st.one_of(st.text(), st.integers(), st.none(),
                                   st.sampled_from(HOSTILE)), max_size=6), max_size=5))
@settings(max_examples=300, deadline=None)
def test_every_cell_is_safe_and_keeps_its_text(rows):
    parsed = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert len(parsed) == len(rows)
    for row, read_back in zip(rows, parsed):
        if not row:
            continue
        for value, cell in zip(row, read_back):
            text = "" if value is None else str(value)
            assert not cell.startswith(FORMULA_STARTS)
            assert cell == (("'" + text) if text.startswith(FORMULA_STARTS) else text)
            assert safe_cell(value) == cell


def test_jobs_csv(app, api, demo):
    for n, text in enumerate(HOSTILE):
        body = intake_body(problem=text, product_model=text,
                           customer={"name": text, "phone": f"1391234{n:04d}",
                                     "address": "上海市浦东新区锦绣路 1001 弄 12 号"})
        assert api.post("/api/v1/jobs", as_="dispatcher1", json=body).status_code == 201
    client, _ = signed_in_client(app, "dispatcher1")
    rows = read(client.get("/dispatch/jobs.csv"))
    assert len(rows) > len(HOSTILE)
    assert_no_formula(rows, HOSTILE)


def test_complaints_csv(app, api, demo):
    for n, text in enumerate(HOSTILE):
        response = api.post("/api/v1/complaints", as_="dispatcher1", json={
            "customer": {"name": text, "phone": f"1391234{n:04d}"}, "about": "technician",
            "content": text, "severity": "general"})
        assert response.status_code == 201, response.get_json()
    client, _ = signed_in_client(app, "dispatcher1")
    rows = read(client.get("/dispatch/complaints.csv"))
    assert len(rows) == len(HOSTILE) + 1
    assert_no_formula(rows, HOSTILE)


def test_parts_log_csv(app, api, demo):
    """The parts log: part names and reasons come from the technician's phone."""
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        job_id = db.session.query(Job.id).filter_by(technician_id=demo["tech1"],
                                                    type="repair").scalar()
    moves = [("job.status", job_id, {"status": s}) for s in ("en_route", "on_site",
                                                              "in_progress")]
    requests = [("parts.request", job_id, {
        "request_id": f"00000000-0000-4000-8000-00000000000{n}", "part_name": text,
        "quantity": 1, "kind": "replacement", "reason": text}) for n, text in enumerate(HOSTILE)]
    answer = sync_push(api, "tech1", moves + requests)
    assert answer.status_code == 200, answer.get_json()
    assert {r["status"] for r in answer.get_json()["results"]} == {"applied"}, answer.get_json()
    client, _ = signed_in_client(app, "supervisor1")
    rows = read(client.get("/review/parts/log.csv"))
    assert len(rows) == len(HOSTILE) + 1
    assert_no_formula(rows, HOSTILE)
