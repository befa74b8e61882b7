"""Signing a test client in through the real /login form (CSRF token and all)."""
from __future__ import annotations

import re

CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|'
                     r'<input[^>]*value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no hidden csrf_token input in the page"
    return match.group(1) or match.group(2)


def signed_in_client(app, username: str, password: str = "fieldapp-demo"):
    """A fresh test client signed in as `username`; answers (client, its CSRF token)."""
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code
    return client, token
