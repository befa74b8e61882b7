"""The standard technician checklist (seed-rules section 4) as plain data."""
import re
from pathlib import Path

import pytest

from fieldapp.core import checklist
from fieldapp.core import standard_checklists as sc

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_constants():
    assert sc.JOB_TYPES == ("delivery", "installation", "repair", "inspection")
    assert sc.PHASES == ("before_leaving", "arrival", "during", "completion", "leaving")
    assert set(sc.PHASE_LABELS) == set(sc.PHASES)
    for label in sc.PHASE_LABELS.values():
        assert label["zh-CN"].strip() and label["en"].strip()
    assert sc.KINDS == ("check", "photo", "text", "number", "choice")
    assert sc.KINDS == checklist.KINDS


def test_plain_python_only():
    source = Path(sc.__file__).read_text(encoding="utf-8").lower()
    assert "flask" not in re.findall(r"^\s*(?:from|import)\s+(\w+)", source, re.M)
    assert "sqlalchemy" not in re.findall(r"^\s*(?:from|import)\s+(\w+)", source, re.M)


def test_keys_unique_and_snake_case():
    keys = [item["key"] for item in sc.STANDARD_ITEMS]
    assert len(keys) == len(set(keys))
    for key in keys:
        assert SNAKE.match(key), key


def test_fields_valid():
    for item in sc.STANDARD_ITEMS:
        assert set(item) == {"key", "phase", "kind", "required", "job_types", "label",
                             "min_photos", "options", "source"}, item["key"]
        assert item["phase"] in sc.PHASES
        assert item["kind"] in sc.KINDS
        assert isinstance(item["required"], bool)
        assert item["job_types"] and set(item["job_types"]) <= set(sc.JOB_TYPES)
        assert item["label"]["zh-CN"].strip() and item["label"]["en"].strip()
        assert item["source"].strip()


def test_ordered_by_phase():
    order = [sc.PHASES.index(item["phase"]) for item in sc.STANDARD_ITEMS]
    assert order == sorted(order)


def test_photo_items_have_min_photos_others_none():
    for item in sc.STANDARD_ITEMS:
        if item["kind"] == "photo":
            assert isinstance(item["min_photos"], int) and item["min_photos"] >= 1
        else:
            assert item["min_photos"] is None, item["key"]


def test_choice_items_have_options():
    for item in sc.STANDARD_ITEMS:
        if item["kind"] != "choice":
            assert item["options"] is None, item["key"]
            continue
        options = item["options"]
        assert len(options) >= 2
        values = [o["value"] for o in options]
        assert len(values) == len(set(values))
        for option in options:
            assert SNAKE.match(option["value"])
            assert option["label"]["zh-CN"].strip() and option["label"]["en"].strip()


@pytest.mark.parametrize("job_type", sc.JOB_TYPES)
def test_every_type_has_arrival_and_completion(job_type):
    items = sc.items_for(job_type)
    phases = {item["phase"] for item in items}
    assert {"arrival", "completion"} <= phases
    assert 12 <= len(items) <= 20


def _required(job_type, key):
    found = [item for item in sc.items_for(job_type) if item["key"] == key]
    assert found, f"{key} missing for {job_type}"
    return found[0]["required"]


@pytest.mark.parametrize("job_type", sc.JOB_TYPES)
def test_key_rules_for_all_types(job_type):
    for key in ("shoe_covers", "id_before_entry", "customer_consent", "debris_cleared",
                "service_record", "site_clean_photo"):
        assert _required(job_type, key), (job_type, key)


def test_shoe_covers_before_entering():
    item = next(i for i in sc.STANDARD_ITEMS if i["key"] == "shoe_covers")
    assert item["phase"] == "arrival" and item["kind"] == "check"
    assert "鞋套" in item["label"]["zh-CN"]


@pytest.mark.parametrize("job_type", ["delivery", "installation"])
def test_delivery_installation_rules(job_type):
    for key in ("assemble_on_carton", "lift_no_drag", "goods_in_place_photo",
                "customer_inspection"):
        assert _required(job_type, key), (job_type, key)
    carton = next(i for i in sc.STANDARD_ITEMS if i["key"] == "assemble_on_carton")
    assert "包装箱" in carton["label"]["zh-CN"]


def test_repair_rules():
    for key in ("parts_and_tampering_checked", "damage_photo", "repair_result",
                "repair_result_photo", "repair_acceptance"):
        assert _required("repair", key), key


def test_inspection_rules():
    keys = {i["key"]: i for i in sc.items_for("inspection")}
    assert keys["inspection_findings"]["kind"] == "text"
    assert keys["inspection_findings"]["required"]
    assert keys["damage_photo"]["kind"] == "photo"
    assert "assemble_on_carton" not in keys and "repair_result" not in keys


@pytest.mark.parametrize("job_type,key", [("delivery", "customer_inspection"),
                                          ("installation", "customer_inspection"),
                                          ("repair", "repair_acceptance")])
def test_customer_inspects_then_signs(job_type, key):
    item = next(i for i in sc.items_for(job_type) if i["key"] == key)
    assert item["required"] and item["phase"] == "completion"
    assert "验收" in item["label"]["zh-CN"] and "签" in item["label"]["zh-CN"]
    assert item["kind"] == "choice"
    assert {"accepted", "refused"} <= {o["value"] for o in item["options"]}


def test_etiquette_items_not_required():
    for key in ("three_donts", "avoid_rest_meal_times", "farewell", "greet_customer"):
        item = next(i for i in sc.STANDARD_ITEMS if i["key"] == key)
        assert item["kind"] == "check" and not item["required"], key


@pytest.mark.parametrize("job_type", sc.JOB_TYPES)
def test_items_for_filters_and_keeps_order(job_type):
    items = sc.items_for(job_type)
    expected = [i["key"] for i in sc.STANDARD_ITEMS if job_type in i["job_types"]]
    assert [i["key"] for i in items] == expected


def test_items_for_returns_copies():
    before = [dict(i, label=dict(i["label"])) for i in sc.STANDARD_ITEMS]
    items = sc.items_for("delivery")
    items[0]["required"] = "changed"
    items[0]["label"]["zh-CN"] = "changed"
    choice = next(i for i in items if i["kind"] == "choice")
    choice["options"][0]["label"]["en"] = "changed"
    items.clear()
    assert [dict(i, label=dict(i["label"])) for i in sc.STANDARD_ITEMS] == before
    assert sc.items_for("delivery")[0]["label"]["zh-CN"] != "changed"
    original_choice = next(i for i in sc.STANDARD_ITEMS if i["kind"] == "choice")
    assert original_choice["options"][0]["label"]["en"] != "changed"


def test_unknown_job_type_raises():
    with pytest.raises(ValueError):
        sc.items_for("painting")


def test_works_with_completion_rule():
    """Nothing answered: every required item is unmet, then the signature."""
    items = sc.items_for("repair")
    unmet = checklist.unmet_items(items, {}, {}, has_signature=False)
    required = [i["key"] for i in items if i["required"]]
    assert [u.key for u in unmet] == required + ["customer_signature"]


def test_installation_items_speak_of_installation_not_delivery():
    """An installer never ticks an item worded "before delivery": each delivery-worded
    preparation item has an installation twin."""
    for item in sc.items_for("installation"):
        assert "送货" not in item["label"]["zh-CN"], item["key"]
        assert "deliver" not in item["label"]["en"].lower(), item["key"]
    keys = {i["key"] for i in sc.items_for("installation")}
    assert {"fittings_checked_before_install", "call_customer_before_install"} <= keys
    delivery = {i["key"] for i in sc.items_for("delivery")}
    assert {"goods_checked_before_delivery", "call_customer_before_delivery"} <= delivery
    assert "call_customer_before_install" not in delivery
