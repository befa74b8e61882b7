"""The completion rule over plain data: which required items are unmet, and why."""
import pytest

from fieldapp.core.checklist import SIGNATURE_ITEM, item_satisfied, unmet_items, validate_answer

LABEL = {"zh-CN": "标签", "en": "Label"}
OPTIONS = [{"value": "accepted", "label": LABEL}, {"value": "refused", "label": LABEL}]


def item(key, kind, required=True, **extra):
    return {"key": key, "kind": kind, "required": required, "phase": "completion",
            "label": LABEL, **extra}


ITEMS = [
    item("shoe_covers", "check"),
    item("site_photo", "photo", min_photos=2),
    item("result", "text"),
    item("pieces", "number"),
    item("acceptance", "choice", options=OPTIONS),
]
GOOD = {"shoe_covers": True, "result": "修好了", "pieces": 3, "acceptance": "accepted"}
PHOTOS = {"site_photo": 2}


def keys(unmet):
    return [u.key for u in unmet]


def test_all_met_with_signature():
    assert unmet_items(ITEMS, GOOD, PHOTOS, has_signature=True) == []


def test_signature_listed_last_when_missing():
    unmet = unmet_items(ITEMS, GOOD, PHOTOS, has_signature=False)
    assert unmet == [SIGNATURE_ITEM]
    assert unmet[0].as_dict() == {"item_key": "customer_signature", "kind": "signature",
                                  "phase": "completion", "missing": "signature",
                                  "label": {"zh-CN": "顾客签字", "en": "Customer signature"}}


def test_nothing_answered_lists_every_required_item_in_order_then_signature():
    unmet = unmet_items(ITEMS, {}, {}, has_signature=False)
    assert keys(unmet) == ["shoe_covers", "site_photo", "result", "pieces", "acceptance",
                           "customer_signature"]
    by_key = {u.key: u for u in unmet}
    assert by_key["shoe_covers"].missing == "answer_yes"
    assert by_key["site_photo"].missing == "photos"
    assert (by_key["site_photo"].have, by_key["site_photo"].need) == (0, 2)
    assert by_key["site_photo"].as_dict()["need"] == 2
    for key in ("result", "pieces", "acceptance"):
        assert by_key[key].missing == "answer"
        assert "need" not in by_key[key].as_dict()


@pytest.mark.parametrize("value,ok", [(True, True), (False, False), (None, False),
                                      ("yes", False), (1, False), ("true", False)])
def test_check_needs_true(value, ok):
    answers = {**GOOD, "shoe_covers": value}
    if value is None:
        del answers["shoe_covers"]
    unmet = unmet_items(ITEMS, answers, PHOTOS, True)
    assert keys(unmet) == ([] if ok else ["shoe_covers"])


@pytest.mark.parametrize("count,ok", [(0, False), (1, False), (2, True), (5, True)])
def test_photo_min_count(count, ok):
    unmet = unmet_items(ITEMS, GOOD, {"site_photo": count}, True)
    assert keys(unmet) == ([] if ok else ["site_photo"])
    if not ok:
        assert (unmet[0].have, unmet[0].need) == (count, 2)


def test_photo_without_min_needs_one():
    items = [item("p", "photo")]
    assert keys(unmet_items(items, {}, {}, True)) == ["p"]
    assert unmet_items(items, {}, {}, True)[0].need == 1
    assert unmet_items(items, {}, {"p": 1}, True) == []


def test_photo_answer_does_not_count_as_photo():
    items = [item("p", "photo")]
    assert keys(unmet_items(items, {"p": True}, {}, True)) == ["p"]


@pytest.mark.parametrize("value,ok", [("done", True), ("  x ", True), ("", False),
                                      ("   \n\t", False), (None, False), (5, False)])
def test_text_non_blank(value, ok):
    unmet = unmet_items(ITEMS, {**GOOD, "result": value}, PHOTOS, True)
    assert keys(unmet) == ([] if ok else ["result"])


@pytest.mark.parametrize("value,ok", [(0, True), (3, True), (2.5, True), (-1, True),
                                      ("3", False), (None, False), (True, False),
                                      (False, False)])
def test_number(value, ok):
    unmet = unmet_items(ITEMS, {**GOOD, "pieces": value}, PHOTOS, True)
    assert keys(unmet) == ([] if ok else ["pieces"])


@pytest.mark.parametrize("value,ok", [("accepted", True), ("refused", True),
                                      ("Accepted", False), ("other", False), (None, False),
                                      ("", False)])
def test_choice_in_options(value, ok):
    unmet = unmet_items(ITEMS, {**GOOD, "acceptance": value}, PHOTOS, True)
    assert keys(unmet) == ([] if ok else ["acceptance"])


def test_non_required_items_ignored():
    items = [item(f"opt_{kind}", kind, required=False, **extra)
             for kind, extra in [("check", {}), ("photo", {"min_photos": 3}), ("text", {}),
                                 ("number", {}), ("choice", {"options": OPTIONS})]]
    assert unmet_items(items, {}, {}, has_signature=True) == []
    assert unmet_items(items, {}, {}, has_signature=False) == [SIGNATURE_ITEM]


def test_unknown_kind_never_satisfied():
    assert item_satisfied(item("x", "signature_pad"), True, 5) is False


@pytest.mark.parametrize("kind,extra,value,problem", [
    ("check", {}, True, None),
    ("check", {}, False, None),
    ("check", {}, "yes", "check_needs_boolean"),
    ("check", {}, 1, "check_needs_boolean"),
    ("check", {}, None, "check_needs_boolean"),
    ("number", {}, 4, None),
    ("number", {}, 4.5, None),
    ("number", {}, "4", "number_needed"),
    ("number", {}, True, "number_needed"),
    ("text", {}, "ok", None),
    ("text", {}, "", None),
    ("text", {}, "x" * 4000, None),
    ("text", {}, "x" * 4001, "text_too_long"),
    ("text", {}, 12, "text_needed"),
    ("choice", {"options": OPTIONS}, "accepted", None),
    ("choice", {"options": OPTIONS}, "maybe", "not_an_option"),
    ("choice", {"options": []}, "accepted", "not_an_option"),
    ("photo", {"min_photos": 1}, "abc", "photo_item_takes_photos"),
    ("hologram", {}, "x", "unknown_kind"),
])
def test_validate_answer(kind, extra, value, problem):
    assert validate_answer(item("k", kind, **extra), value) == problem
