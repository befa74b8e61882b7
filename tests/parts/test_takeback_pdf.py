"""The take-back receipt (取件收据) and the repair slip (维修单) as PDFs, zh-CN and English:
read back with pdftotext, the Chinese wording and the receipt number are text, not boxes."""
from __future__ import annotations

import subprocess

from tests.support.partskit import Phone, giveback, job_of_type, receipt


def text_of(pdf: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_receipt_and_repair_slip(api, client, demo, tmp_path):
    tech1 = Phone(client, "tech1")
    job = job_of_type(tech1, "repair")
    number = f"{job['ref']}-T1"
    taken = receipt(tech1, job["id"], receipt_no=number, signer_name="陈女士", photos=2)
    tech1.push([tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
               + [taken])
    receipt_id = taken["args"]["receipt_id"]

    response = api.get(f"/api/v1/takebacks/{receipt_id}/receipt.pdf?lang=zh", as_="dispatcher1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data, tmp_path, "receipt-zh")
    for expected in ("取件收据", number, "沙发扶手", "坐垫", "左扶手木架开裂", "顾客签字", "陈女士",
                     "请保管好本收据"):
        assert expected in text, expected

    english = text_of(api.get(f"/api/v1/takebacks/{receipt_id}/receipt.pdf?lang=en",
                              as_="supervisor1").data, tmp_path, "receipt-en")
    assert "Take-back receipt" in english and number in english and "Keep this receipt" in english

    slip = text_of(api.get(f"/api/v1/takebacks/{receipt_id}/repair-slip.pdf?lang=zh",
                           as_="dispatcher1").data, tmp_path, "slip-before")
    assert "维修单" in slip and number in slip and "尚未送回" in slip

    tech1.push([giveback(tech1, job["id"], receipt_id, signer_name="陈女士")])
    slip = text_of(api.get(f"/api/v1/takebacks/{receipt_id}/repair-slip.pdf?lang=zh",
                           as_="admin").data, tmp_path, "slip-zh")
    assert "维修单" in slip and "收据已收回" in slip and "已送回" in slip
    assert "顾客确认已收到维修好的产品" in slip
    slip_en = text_of(api.get(f"/api/v1/takebacks/{receipt_id}/repair-slip.pdf?lang=en",
                              as_="admin").data, tmp_path, "slip-en")
    assert "Repair slip" in slip_en and "Receipt collected" in slip_en
