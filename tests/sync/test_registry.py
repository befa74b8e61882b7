"""The one registry of mutation types (issue 15): every type is declared once, complete, and
docs/sync-protocol.md's table of types is the registry's."""
from __future__ import annotations

import json
import pathlib
import re

import pytest
from flask_babel import force_locale

from fieldapp.messages import MESSAGES
from fieldapp.mutations import MutationType
from sync import engine, registry

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "sync-protocol.md"


@pytest.mark.parametrize("name", sorted(registry.TYPES))
def test_every_registered_type_is_complete(name):
    kind = registry.TYPES[name]
    assert kind.name == name
    assert registry.missing_parts(kind) == [], f"{name} lacks {registry.missing_parts(kind)}"


def test_an_incomplete_type_is_named_with_what_it_lacks():
    bare = MutationType("x.y", args=None, apply=None, event="", label="", errors=(), doc="")
    assert registry.missing_parts(bare) == ["args", "apply", "event", "label", "errors", "doc"]


def test_a_type_declared_twice_is_refused():
    class Domain:
        TYPES = (registry.TYPES["job.note"],)

    with pytest.raises(ValueError, match="job.note"):
        registry.collect((Domain, Domain))


def test_the_engine_reads_the_registry():
    assert set(registry.HANDLERS) == set(registry.SCHEMAS) == set(registry.TYPES)
    assert registry.EVENT_LABELS == {k.event: k.label for k in registry.TYPES.values()}


def test_labels_are_in_both_languages(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = {name: str(kind.label) for name, kind in registry.TYPES.items()}
    with app.test_request_context(), force_locale("zh"):
        chinese = {name: str(kind.label) for name, kind in registry.TYPES.items()}
    for name in registry.TYPES:
        assert english[name] and chinese[name] and english[name] != chinese[name], name


def test_the_protocol_doc_lists_the_registered_types():
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- mutation-types: begin -->\n", "<!-- mutation-types: end -->"
    documented = text[text.index(begin) + len(begin):text.index(end)]
    assert documented == registry.markdown_table(), (
        "docs/sync-protocol.md's table of mutation types is out of date: paste "
        "sync.registry.markdown_table() between its markers")


def test_every_refusal_a_type_can_give_is_worded_for_the_office_and_the_phone(app, client):
    """Each error code a registered type names, and each the engine refuses any type with, has
    a message in both languages on the server (fieldapp/messages.py), and the phone has the
    same words from the server (/app/registry.js, tests/web/test_phone_registry.py)."""
    codes = sorted({code for kind in registry.TYPES.values() for code in kind.errors}
                   | set(registry.ENGINE_ERRORS))
    assert not [code for code in codes if code not in MESSAGES]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = {code: str(MESSAGES[code]) for code in codes}
    with app.test_request_context(), force_locale("zh"):
        chinese = {code: str(MESSAGES[code]) for code in codes}
    assert not [code for code in codes if english[code] == chinese[code]], "untranslated"
    served = client.get("/app/registry.js").get_data(as_text=True)
    phone = json.loads(served[served.index("{"):served.rindex("}") + 1])["reasons"]
    assert {code: phone[code] for code in codes} == {
        code: {"zh-CN": chinese[code], "en": english[code]} for code in codes}


def test_every_code_the_engine_refuses_with_is_declared():
    """A code the engine (or the args check) rejects a mutation with, whatever its type, is in
    ENGINE_ERRORS, so it is worded on the server and on the phone."""
    raised = set()
    for path in (DOC.parents[1] / "sync").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r'MutationInvalid\(\s*"([a-z_]+)"', source))
        raised |= set(re.findall(r'REJECTED,\s*"([a-z_]+)"', source))
    raised.add(engine.ID_TAKEN)
    assert raised, "the pattern no longer finds the engine's refusals"
    assert raised <= set(registry.ENGINE_ERRORS), sorted(raised - set(registry.ENGINE_ERRORS))
