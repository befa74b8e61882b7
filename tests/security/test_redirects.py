"""Open redirects: every `next` a request names (the language switch, sign-in, the board's
"back") leads to a path on this site, however it is dressed up, and never answers 5xx."""
from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.web import same_site_path
from tests.support.web_kit import csrf_from, signed_in_client

# Pieces an attacker strings together: separators a browser folds into "//", their encodings
# (once and twice), schemes, hosts, dot segments and characters browsers drop or rewrite.
PIECES = ["/", "//", "\\", "\t", "\r", "\n", "\r\n", "\x00", " ", "\x0b", "\x0c", "\x7f",
          "%09", "%0a", "%0d", "%0D%0A", "%2f", "%2F", "%5c", "%5C", "%252f", "%25%32%66",
          "%00", "%20", "evil.example", "evil.example:80", "@evil.example", "http:",
          "https://", "javascript:", "//evil.example", "\\\\evil.example", ".", "..", "./",
          "../", "%2e%2e", "?", "#", ":", "@", "/dispatch/", "/app/", "/review/", "/login",
          "\u3000", "\uff0f", "\u2044", "\u202e", "\u200b", "\u2028", "\ufeff", "%E2%80%AE",
          "\ud800"]
HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=8).map(
    "".join)


def browser_destination(location: str, base: str) -> tuple[str, str]:
    """Where a browser goes with this Location: it drops tab/CR/LF, trims controls and
    spaces at the ends, and reads a backslash as a slash (WHATWG URL, special schemes)."""
    cleaned = re.sub(r"[\t\r\n]", "", location).strip("".join(map(chr, range(0x21))))
    cleaned = cleaned.replace("\\", "/")
    parts = urlsplit(urljoin(base, cleaned))
    return parts.scheme, parts.netloc


def assert_stays_on_site(response, base="http://localhost/"):
    assert response.status_code < 500, response.status_code
    location = response.headers.get("Location")
    if response.status_code in (301, 302, 303, 307, 308):
        assert location is not None
        assert not re.search(r"[\x00-\x20\x7f\\]", location), location
        assert browser_destination(location, base) == ("http", "localhost"), location


@given(target=HOSTILE)
@settings(max_examples=500, deadline=None)
def test_helper_answers_only_same_site_paths(target):
    result = same_site_path(target, "/home/")
    assert result == "/home/" or result == target
    if result == target:
        assert browser_destination(target, "http://localhost/x/") == ("http", "localhost")
        assert not re.search(r"[\x00-\x20\x7f\\]", target)


@given(target=HOSTILE)
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_language_switch_never_leaves_the_site(client, target):
    response = client.get("/lang/en?next=" + quote(target, safe="", errors="surrogatepass"))
    assert response.status_code == 302
    assert_stays_on_site(response)


@given(target=HOSTILE)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sign_in_next_never_leaves_the_site(app, demo, target):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=" + quote(target, safe="", errors="surrogatepass"),
                           data={"username": "dispatcher1", "password": "fieldapp-demo",
                                 "csrf_token": token})
    assert response.status_code == 302
    assert_stays_on_site(response)


@pytest.mark.parametrize("target", [
    "/%09/evil.example/", "/%0D%0A/evil.example/", "/%5Cevil.example", "/%2F/evil.example",
    "/%252F%252Fevil.example", "/./%2F/evil.example", "/%E2%80%AE/evil.example",
])
def test_reported_language_switch_targets_go_home(client, target):
    response = client.get("/lang/en?next=" + target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_raw_crlf_in_the_query_is_no_header_and_no_500(client):
    response = client.get("/lang/en?next=/x%0D%0ASet-Cookie:%20a=b")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "a=b" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_good_targets_are_still_followed(client):
    for target in ("/login", "/dispatch/jobs?q=%E9%99%88%20%E5%A5%B3%E5%A3%AB&status=new",
                   "/dispatch/#board"):
        response = client.get("/lang/en?next=" + quote(target, safe="", errors="surrogatepass"))
        assert response.headers["Location"] == target


@pytest.mark.parametrize("target,expected", [
    ("/dispatch/?day=2026-11-24", "/dispatch/?day=2026-11-24"),
    ("/dispatch/%09/evil.example", None), ("/dispatch/\\..\\..\\evil.example", None),
    ("//evil.example/dispatch/", None), ("/dispatch/../review/", None),
])
def test_board_back_link_stays_in_the_desk(app, demo, target, expected):
    """The board's schedule form carries a `next`; only a desk path is followed."""
    from fieldapp.extensions import db
    from fieldapp.models import Job

    client, token = signed_in_client(app, "dispatcher1")
    with app.app_context():
        job = db.session.query(Job).filter(Job.technician_id.is_(None)).first()
        job_id = job.id
    # Nothing changed (no technician, no day): the answer is a redirect to `back`.
    response = client.post(f"/dispatch/jobs/{job_id}/schedule", data={
        "csrf_token": token, "next": target, "technician_id": ""})
    assert response.status_code in (302, 303), response.status_code
    assert_stays_on_site(response)
    location = urlsplit(response.headers["Location"])
    if expected is None:
        assert location.path == f"/dispatch/jobs/{job_id}"
    else:
        assert response.headers["Location"] == expected


# url_for reads `_external`, `_scheme`, `_anchor` as orders: a query that hands them over
# made page links and redirects point at `javascript://...` or another host.
HIJACK = "_external=1&_scheme=javascript&_anchor=x&status=new"


def test_list_links_ignore_url_for_orders_in_the_query(app, demo):
    client, _ = signed_in_client(app, "dispatcher1")
    for path in ("/dispatch/jobs", "/dispatch/complaints"):
        html = client.get(f"{path}?{HIJACK}").get_data(as_text=True)
        assert "javascript:" not in html and "_scheme" not in html, path
        assert "http://localhost/dispatch" not in html and '#x"' not in html, path


def test_parts_release_redirect_ignores_url_for_orders(app, demo):
    client, token = signed_in_client(app, "supervisor1")
    html = client.get(f"/review/parts/log?{HIJACK}").get_data(as_text=True)
    assert "javascript:" not in html
    response = client.post(f"/review/parts/00000000-0000-4000-8000-000000000000/release?"
                           f"{HIJACK}", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/review/parts/log")
    assert_stays_on_site(response)
