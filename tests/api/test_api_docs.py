"""The API reference: /api/v1/openapi.json (machine-readable) and /api/v1/docs (HTML)."""
import json
import re

# The contract's endpoints that the foundation serves, as OpenAPI paths.
CONTRACT = {
    "/api/v1/auth/login": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/jobs": {"get", "post"},
    "/api/v1/jobs/{job_id}": {"get", "patch"},
    "/api/v1/jobs/{job_id}/contact": {"post"},
    "/api/v1/jobs/{job_id}/review": {"post"},
    "/api/v1/sync/pull": {"get"},
    "/api/v1/sync/push": {"post"},
    "/api/v1/blobs/{sha256}": {"put", "head", "get"},
}
METHODS = {"get", "post", "put", "patch", "delete", "head"}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_json_is_valid_and_complete(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    for path, methods in CONTRACT.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                assert op.get("responses"), (path, method)
    # Every reference resolves inside the document.
    for ref in set(_refs(spec)):
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_openapi_describes_the_contract_shapes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    login_op = spec["paths"]["/api/v1/auth/login"]["post"]
    assert {"200", "401", "429"} <= set(login_op["responses"])
    login_body = schemas["Login"]["properties"]
    assert {"username", "password", "device_name"} <= set(login_body)
    create = schemas["JobCreate"]
    assert {"type", "customer", "product_model", "problem", "channel", "priority",
            "scheduled_start", "scheduled_end", "technician_id"} <= set(create["properties"])
    assert set(create["properties"]["type"]["enum"]) == {"delivery", "installation", "repair",
                                                         "inspection"}
    assert set(create["properties"]["channel"]["enum"]) == {"phone", "store", "online",
                                                            "email"}
    assert set(schemas["Review"]["properties"]["decision"]["enum"]) == {"approve", "rework"}
    detail = schemas["JobDetail"]["properties"]
    assert {"id", "ref", "status", "checklist_template_id", "sla", "answers", "photos",
            "signatures", "notes", "events", "conflicts", "parts_requests", "takebacks",
            "review", "seal"} <= set(detail)


def test_docs_page_lists_every_endpoint(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, methods in CONTRACT.items():
        for method in methods:
            pattern = (rf"<code[^>]*>{method.upper()}</code>\s*<code>"
                       rf"{re.escape(path)}</code>")
            assert re.search(pattern, html), (method, path)
    assert "/api/v1/openapi.json" in html
    # Rendered on the server: no inline script (the CSP forbids it) and no CDN.
    assert "<script>" not in html and "cdn" not in html.lower()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp


def test_docs_need_no_sign_in(client):
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
