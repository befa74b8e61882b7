"""Hostile input to EVERY JSON endpoint of the API, found in the app's url_map (a new
endpoint is covered without touching this file): hypothesis generates bodies and query
strings of arbitrary JSON values (all types, deep nesting, NaN and Infinity, lone UTF-16
surrogates, NUL, huge strings, wrong types, out-of-range dates), raw bodies that are not
UTF-8, not JSON, nested past any parser, or sent as another content type. The answer is
always 2xx or 4xx, never 5xx, and every JSON answer parses with a strict parser (no NaN or
Infinity, no lone surrogate, no duplicate key)."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import NumberConverter

IGNORED_METHODS = {"HEAD", "OPTIONS"}
USERS = ("admin", "tech1")  # an office user and a technician
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

HOSTILE_TEXT = st.sampled_from([
    "\x00", "a\x00b", "\ud800", "x\udfff", "\ud83d", "", " ", "x" * 100_000,
    "0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31",
    "2026-02-30", "NaN", "Infinity", "-0", "1e999", "true", "yes", "null", "[]", "{}",
    "' OR 1=1 --", "<script>", "../../etc/passwd", "\r\nSet-Cookie: x=1", "%00", "\u202e",
])
SCALARS = (st.none() | st.booleans()
           | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
           | HOSTILE_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8) | HOSTILE_TEXT, inner,
                                             max_size=4), max_leaves=12)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


RAW_BODIES = st.sampled_from([
    (b"\xff\xfe\x00{", "application/json"), (b'{"a": "\xed\xa0\x80"}', "application/json"),
    (b"{", "application/json"), (b'{"a": 1,}', "application/json"),
    (b"NaN", "application/json"), (b'{"a": Infinity}', "application/json"),
    (_deep(100_000).encode(), "application/json"), (_deep(65).encode(), "application/json"),
    (('{"a":' * 5000 + "1" + "}" * 5000).encode(), "application/json"),
    (b'{"a": 1, "a": 2}', "application/json"), (b"\xef\xbb\xbf{}", "application/json"),
    (b'{"username": "x"}', "text/plain"), (b"username=x&password=y", "application/x-www-form-urlencoded"),
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
     "multipart/form-data; boundary=b"), (b"\x00" * 64, "application/octet-stream"),
    (b'{"a": 1}', "application/json; charset=latin-1"),
])


def strict_json(text: str):
    """Parse as the strictest client would: NaN/Infinity, lone surrogates and duplicate
    keys are errors."""
    def constant(name):
        raise ValueError(f"non-finite number {name} in a JSON answer")

    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate keys {keys}")
        return dict(pairs)

    value = json.loads(text, parse_constant=constant, object_pairs_hook=no_duplicates)
    stack = [value]
    while stack:
        item = stack.pop()
        strings = []
        if isinstance(item, dict):
            strings, children = list(item), list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            strings, children = [item], []
        for string in strings:
            if isinstance(string, str) and LONE_SURROGATE.search(string):
                raise ValueError(f"lone surrogate in a JSON answer: {string!r}")
        stack.extend(children)
    return value


def _api_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api_")
                   and rule.endpoint != "api_docs.reference"),
                  key=lambda rule: rule.rule)


def _fields(spec: dict, path: str, method: str) -> tuple[list[str], list[str]]:
    """The body's property names and the query's parameter names the spec documents."""
    operation = spec["paths"].get(path, {}).get(method.lower(), {})
    query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    schema = operation.get("requestBody", {}).get("content", {}).get(
        "application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {})), query


def _openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


@pytest.fixture
def job_id(api, demo):
    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}", as_="admin").get_json()
    return jobs["items"][0]["id"]


def _fill(rule, job_id: str, draw) -> str:
    values = {}
    for name in rule.arguments:
        if isinstance(rule._converters[name], NumberConverter):
            values[name] = draw(st.integers(min_value=0, max_value=2**31 - 1))
        elif name == "job_id" and draw(st.booleans()):
            values[name] = job_id
        else:
            values[name] = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1,
                                        max_size=80).filter(lambda t: "/" not in t))
    return rule.build(values, append_unknown=False)[1]


def _query_string(draw, names: list[str]) -> str:
    pairs = []
    for name in draw(st.lists(st.sampled_from(names + ["unknown", "date"]) if names
                              else st.just("unknown"), max_size=4)):
        value = draw(HOSTILE_TEXT | st.text(max_size=20)
                     | st.integers(min_value=-(2**70), max_value=2**70).map(str)
                     | st.binary(max_size=12).map(lambda b: b.decode("latin-1")))
        # Raw percent-encoding of arbitrary bytes too: not every client sends UTF-8.
        encoded = (quote(value.encode("utf-8", "surrogatepass"), safe="")
                   if draw(st.booleans()) else quote(value.encode("latin-1", "replace"),
                                                     safe=""))
        pairs.append(f"{quote(name)}={encoded}")
    return "&".join(pairs)


EXAMPLES_PER_ENDPOINT = 6


def test_every_json_endpoint_answers_hostile_input_without_a_server_error(
        app, api, demo, job_id):
    from fieldapp.extensions import limiter

    spec = api.get("/api/v1/openapi.json").get_json()
    rules = _api_rules(app)
    assert len(rules) > 25, [r.rule for r in rules]
    for user in USERS:
        api.login(user, device=f"hostile-{user}")
    # Every endpoint and method gets its own examples: coverage is certain, not left to a
    # random draw over ~100 pairs.
    every = [(rule, method) for rule in rules
             for method in sorted(rule.methods - IGNORED_METHODS)]

    def hostile_for(rule, method):
        @given(data=st.data())
        @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def hostile(data):
            user = data.draw(st.sampled_from(USERS))
            body_fields, query_fields = _fields(spec, _openapi_path(rule), method)
            path = _fill(rule, job_id, data.draw)
            query = _query_string(data.draw, query_fields)
            kind = data.draw(st.sampled_from(["fields", "value", "raw"]))
            if kind == "fields":  # the endpoint's own field names, with hostile values
                names = body_fields or ["x"]
                body = data.draw(st.dictionaries(st.sampled_from(names), JSON_VALUES,
                                                 max_size=6))
            if kind == "value":
                body = data.draw(JSON_VALUES)
            if kind == "raw":
                payload, content_type = data.draw(RAW_BODIES)
            else:
                payload = json.dumps(body, allow_nan=True).encode()  # escapes surrogates
                content_type = "application/json"
            with app.app_context():
                limiter.reset()
            response = api.call(method, f"{path}?{query}" if query else path, user,
                                data=payload, content_type=content_type)
            if rule.endpoint == "api_auth.logout" and response.status_code < 300:
                api.login(user, device=f"hostile-{user}")  # that token is gone: a new one
            described = (f"{method} {path}?{query[:200]} {payload[:200]!r} -> "
                         f"{response.status_code}")
            assert response.status_code < 500, described + response.get_data(as_text=True)[:300]
            if response.mimetype == "application/json" and response.status_code != 204:
                answer = strict_json(response.get_data(as_text=True))
                if response.status_code >= 400:
                    assert set(answer) == {"error", "message", "details"}, described

        return hostile

    for rule, method in every:
        hostile_for(rule, method)()


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_desk_pages_take_a_day_out_of_range_as_no_day(app, demo, day):
    """The pages' own date filters (`?day=`, `?from=`, the lists' date fields) overflowed in
    the database driver (a 500) for year 1; now such a day is ignored like one that does not
    parse."""
    from tests.support.web_kit import signed_in_client

    client, _ = signed_in_client(app, "admin")
    for path in (f"/dispatch/?day={day}", f"/dispatch/board.json?day={day}",
                 f"/dispatch/jobs?date_from={day}&date_to={day}",
                 f"/dispatch/complaints?date_from={day}&date_to={day}",
                 f"/review/kpis?from={day}&to={day}"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
