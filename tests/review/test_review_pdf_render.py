"""Writes the service report of an approved demo job to $REVIEW_PDF_OUT (when set) so its
pages can be rendered with pdftoppm and looked at; always checks that it renders."""
import os
import subprocess

from tests.support.review_kit import approved_job


def test_report_pages_render(api, demo, tmp_path):
    job = approved_job(api, demo, "installation")
    out = os.environ.get("REVIEW_PDF_OUT") or str(tmp_path)
    for lang in ("zh", "en"):
        response = api.get(f"/api/v1/jobs/{job['id']}/report.pdf?lang={lang}", as_="supervisor1")
        assert response.status_code == 200
        path = os.path.join(out, f"report-{lang}.pdf")
        with open(path, "wb") as handle:
            handle.write(response.data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", path, os.path.join(out, f"page-{lang}")],
                       check=True)
        assert any(name.startswith(f"page-{lang}") for name in os.listdir(out))
