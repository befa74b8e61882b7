"""The phone reads the server's registries (issue 15): /app/registry.js is what
core/job_types.py, core/skills.py, sync/registry.py and fieldapp/messages.py say, it is part of
the precached, versioned shell, and no phone module keeps its own list of job types, mutation
types or refusal messages."""
from __future__ import annotations

import json
import pathlib
import re

from flask_babel import force_locale

from fieldapp.core import job_types, skills
from fieldapp.faces.phone import registry as phone_registry
from fieldapp.messages import MESSAGES
from sync import registry
from tests.support.helpers import ROOT

JS_DIR = pathlib.Path(ROOT) / "static" / "app" / "js"


def _phone_modules() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(JS_DIR.glob("*.js"))}


def served_registry(client) -> dict:
    response = client.get("/app/registry.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    source = response.get_data(as_text=True)
    match = re.fullmatch(r"(?s)//[^\n]*\nexport const REGISTRY = (\{.*\});\n", source)
    assert match, source[:200]
    return json.loads(match.group(1))


def both(app, text) -> dict:
    with app.test_request_context(), force_locale("zh"):
        chinese = str(text)
    with app.test_request_context(), force_locale("en"):
        english = str(text)
    return {"zh-CN": chinese, "en": english}


def test_the_served_registry_is_what_the_server_registries_say(app, client):
    served = served_registry(client)
    assert list(served["job_types"]) == list(job_types.JOB_TYPES)  # in the pages' order
    for kind in job_types.TYPES:
        assert served["job_types"][kind.key] == {"label": kind.label, "skills": list(kind.skills)}
    assert served["skills"] == {s.key: {"label": s.label} for s in skills.SKILLS}
    assert list(served["mutation_types"]) == list(registry.TYPES)
    for name, kind in registry.TYPES.items():
        assert served["mutation_types"][name] == {
            "label": both(app, kind.label), "errors": list(kind.errors),
            "counts_as": kind.counts_as}, name
    assert served["engine_errors"] == list(registry.ENGINE_ERRORS)
    assert served["reasons"] == {code: both(app, text) for code, text in MESSAGES.items()}
    # Both languages really differ (a missing translation would show English twice).
    assert served["reasons"]["checklist_incomplete"]["zh-CN"] != \
        served["reasons"]["checklist_incomplete"]["en"]


def test_the_registry_is_revalidated_not_refetched(client):
    first = client.get("/app/registry.js")
    assert first.headers["Cache-Control"] == "no-cache" and first.headers.get("ETag")
    again = client.get("/app/registry.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_shell_version_changes_with_the_registries(app, client, monkeypatch):
    """The registry is part of the precached shell: a new job type (or any change to what the
    phone reads) is a new shell version, which the phone then installs."""
    version = client.get("/app/version").get_json()["version"]
    assert client.get("/app/version").get_json()["version"] == version
    extra = job_types.JobType("assembly_check", {"zh-CN": "复查", "en": "Check"}, (1, "hours"),
                              skills=("assembly",))
    monkeypatch.setattr(job_types, "TYPES", (*job_types.TYPES, extra))
    app.extensions.pop(phone_registry.CACHE_KEY, None)  # the registries are fixed per process
    assert "assembly_check" in served_registry(client)["job_types"]
    assert client.get("/app/version").get_json()["version"] != version
    script = client.get("/app/sw.js").get_data(as_text=True)
    assert client.get("/app/version").get_json()["version"] in script


# --- no hand-written copies on the phone -------------------------------------------------

def _quoted(name: str) -> re.Pattern:
    return re.compile(r"([\"'`])" + re.escape(name) + r"\1")


def _bare_key(name: str) -> re.Pattern:
    """`{ name: ...` or `, name: ...`: an object literal keyed by it."""
    return re.compile(r"(?:^|[{,])\s*" + re.escape(name) + r"\s*:", re.M)


def test_no_phone_module_lists_job_types_by_hand():
    """A job type's key or its names appear in no phone module: they come from the registry."""
    found = []
    for module, source in _phone_modules().items():
        for kind in job_types.TYPES:
            if _quoted(kind.key).search(source) or _bare_key(kind.key).search(source):
                found.append((module, kind.key))
            for name in kind.label.values():
                if _quoted(name).search(source):
                    found.append((module, name))
    assert not found, f"read these from /app/registry.js: {found}"


def test_mutation_names_appear_only_where_the_phone_records_or_applies_one():
    """A mutation type's name is written on the phone only as the first argument of
    `record(...)` (making that change) and as a key of local-rules.js's EFFECTS (what it does
    to the local job). Each is a registered type, and each type recorded has its local effect."""
    modules = _phone_modules()
    recorded, listed = set(), []
    for module, source in modules.items():
        recorded |= set(re.findall(r"\brecord\(\s*[\"'`]([a-z_]+\.[a-z_]+)[\"'`]", source))
        for name in registry.TYPES:
            for match in _quoted(name).finditer(source):
                before = source[max(0, match.start() - 20):match.start()]
                after = source[match.end():match.end() + 3]
                in_effects = module == "local-rules.js" and after.startswith(":")
                if not (re.search(r"\brecord\(\s*$", before) or in_effects):
                    listed.append((module, name, source.count("\n", 0, match.start()) + 1))
    assert not listed, f"a hand list of mutation types (read /app/registry.js): {listed}"
    effects_block = modules["local-rules.js"].split("const EFFECTS = {", 1)[1].split("\n};", 1)[0]
    effects = set(re.findall(r"^  \"([a-z_]+\.[a-z_]+)\": ", effects_block, re.M))
    assert recorded and effects
    assert recorded <= set(registry.TYPES), sorted(recorded - set(registry.TYPES))
    assert effects <= set(registry.TYPES), sorted(effects - set(registry.TYPES))
    assert recorded <= effects, f"no local effect for {sorted(recorded - effects)}"


def test_no_phone_module_words_a_refusal_by_hand():
    """Why the server refused a change is said in the server's words (the registry's
    `reasons`), never in a phone catalogue of its own."""
    codes = {code for kind in registry.TYPES.values() for code in kind.errors} \
        | set(registry.ENGINE_ERRORS)
    found = [(module, code) for module, source in _phone_modules().items() for code in codes
             if _bare_key(code).search(source) or _quoted(code).search(source)]
    assert not found, f"read these from /app/registry.js reasons: {found}"


def test_the_phone_can_count_every_kind_of_change():
    """What each type counts as while waiting has its words in the phone's catalogue."""
    source = _phone_modules()["i18n.js"]
    order = json.loads(re.search(r"THING_ORDER = (\[[^\]]*\])", source).group(1))
    assert {kind.counts_as for kind in registry.TYPES.values()} <= set(order)
    assert "other" in order
