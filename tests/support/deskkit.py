"""Helpers for the desk's tests: a signed-in web session with its CSRF token, form posts,
and moving the injected clock to a given Shanghai wall-clock time."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from tests.support.web_kit import csrf_from

SH = ZoneInfo("Asia/Shanghai")


def sh(y, m, d, hh, mm=0) -> datetime:
    """A Shanghai wall-clock time as aware UTC (what the app stores and answers)."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(timezone.utc)


def z(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class Desk:
    """One browser-like session: signs in through /login and posts forms with the token."""

    def __init__(self, app, username: str, lang: str | None = "en"):
        self.client = app.test_client()
        self.username = username
        page = self.client.get("/login")
        self.token = csrf_from(page.get_data(as_text=True))
        response = self.client.post("/login", data={
            "username": username, "password": "fieldapp-demo", "csrf_token": self.token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if lang:
            self.client.get(f"/lang/{lang}?next=/login")

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, **kw)

    def html(self, path) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


def intake_form(**overrides) -> dict:
    form = {"type": "repair", "name": "陈女士", "phone": "139-1234-9001",
            "address": "上海市浦东新区锦绣路 1001 弄 12 号", "product_model": "布艺沙发 SF-3S",
            "problem": "扶手松动", "symptoms": "坐下时有异响，上周开始", "channel": "phone",
            "priority": "normal", "technician_id": "", "day": "", "start": "", "end": ""}
    form.update(overrides)
    return form


def job_id_from(response) -> str:
    location = response.headers["Location"]
    match = re.search(r"/dispatch/jobs/([0-9a-f-]{36})", location)
    assert match, location
    return match.group(1)
