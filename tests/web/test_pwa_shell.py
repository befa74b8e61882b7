"""The PWA's shell as the server serves it: installable manifest, a versioned service worker
that precaches every shell file, and the technician's part of the state machine."""
import json
import re

from fieldapp.core import states
from fieldapp.faces.phone import GENERATED_MODULES, SHELL_FILES
from tests.support.helpers import ROOT


def test_manifest_is_installable(client):
    response = client.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] == "/app/" and manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone"
    assert "售后" in manifest["name"]
    purposes = {icon.get("purpose", "any") for icon in manifest["icons"]}
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert "maskable" in purposes and {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_precaches_a_versioned_shell(app, client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]+)"', script).group(1)
    urls = json.loads(re.search(r"const URLS = (\[.*?\]);", script, re.S).group(1))
    assert "/app/" in urls and "/app/rules.json" in urls and "/app/registry.js" in urls
    assert {f"/static/{name}" for name in SHELL_FILES} <= set(urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    # Any change to the shell is a new version.
    app.config["SHELL_VERSION_SALT"] = "changed"
    again = client.get("/app/sw.js").get_data(as_text=True)
    assert f'"{version}"' not in again


def test_every_shell_module_is_precached(client):
    """A module imported by the app but missing from the precache list would break the
    offline start: check the imports against SHELL_FILES."""
    import os

    js_dir = os.path.join(ROOT, "static", "app", "js")
    for name in os.listdir(js_dir):
        with open(os.path.join(js_dir, name), encoding="utf-8") as handle:
            for target in re.findall(r'from "([^"]+)"', handle.read()):
                if target in GENERATED_MODULES:  # precached by URL (the test above)
                    continue
                path = os.path.normpath(os.path.join("app/js", target)) if target.startswith(".") \
                    else target.removeprefix("/static/")
                assert path in SHELL_FILES, f"{name} imports {target}, not precached"
        assert f"app/js/{name}" in SHELL_FILES


def test_rules_are_the_state_machine_for_technicians(client):
    rules = client.get("/app/rules.json").get_json()
    moves = {(frm, m["to"]) for frm, ms in rules["technician_moves"].items() for m in ms}
    expected = {pair for pair, (roles, _) in states.TRANSITIONS.items() if "technician" in roles}
    assert moves == expected
    assert rules["timezone"] == "Asia/Shanghai"
    assert [p["key"] for p in rules["phases"]][0] == "before_leaving"


def test_shell_holds_no_user_data_and_no_inline_script(client, demo):
    html = client.get("/app/").get_data(as_text=True)
    assert "tech1" not in html and "13800000001" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None


def test_the_shell_preloads_its_modules_but_not_the_signature_pad(client):
    """Every module of the first screen is fetched beside main.js, not one import level after
    another; signature_pad waits until a pad is shown."""
    shell = client.get("/app/").get_data(as_text=True)
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', shell))
    modules = {f"/static/{name}" for name in SHELL_FILES if name.endswith(".js")}
    assert preloaded == (modules | {"/app/registry.js"}) - {
        "/static/app/js/main.js", "/static/vendor/signature_pad/signature_pad.js"}


def test_scripts_and_json_go_out_compressed_pages_do_not(client, demo):
    """A first start on a slow mobile network is mostly script bytes: they are compressed, and
    so is JSON. HTML pages, which carry CSRF tokens beside text a visitor chooses, are not
    (BREACH)."""
    gzip_ok = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    for url in ("/static/app/js/views.js", "/static/app/app.css", "/app/rules.json"):
        response = client.get(url, headers=gzip_ok)
        assert response.status_code == 200, url
        assert response.headers.get("Content-Encoding") in {"gzip", "br", "zstd", "deflate"}, url
        assert "Accept-Encoding" in response.headers.get("Vary", ""), url
    for url in ("/login", "/app/"):
        response = client.get(url, headers=gzip_ok)
        assert "Content-Encoding" not in response.headers, url
    plain = client.get("/static/app/js/views.js")
    assert "Content-Encoding" not in plain.headers and b"export" in plain.data
