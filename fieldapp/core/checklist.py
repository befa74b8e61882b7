"""The completion rule of the contract, over plain data.

A job may move to `completed` only when every required item of its template is satisfied
and a customer signature is attached. The result names every unmet item so the technician
(and the API error) can say exactly what is missing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("check", "photo", "text", "number", "choice")


@dataclass(frozen=True)
class Unmet:
    key: str
    kind: str
    phase: str
    label: dict
    missing: str  # "answer_yes" | "photos" | "answer" | "signature"
    have: int | None = None
    need: int | None = None

    def as_dict(self) -> dict:
        out = {"item_key": self.key, "kind": self.kind, "phase": self.phase,
               "label": self.label, "missing": self.missing}
        if self.need is not None:
            out.update(have=self.have, need=self.need)
        return out


SIGNATURE_ITEM = Unmet(key="customer_signature", kind="signature", phase="completion",
                       label={"zh-CN": "顾客签字", "en": "Customer signature"},
                       missing="signature")


def item_satisfied(item: dict, answer, photo_count: int) -> bool:
    kind = item["kind"]
    if kind == "photo":
        return photo_count >= (item.get("min_photos") or 1)
    if kind == "check":
        return answer is True
    if kind == "number":
        return isinstance(answer, (int, float)) and not isinstance(answer, bool)
    if kind == "text":
        return isinstance(answer, str) and answer.strip() != ""
    if kind == "choice":
        return validate_answer(item, answer) is None
    return False


def unmet_items(items: list[dict], answers: dict, photo_counts: dict[str, int],
                has_signature: bool) -> list[Unmet]:
    """Every required item not yet satisfied, in template order, then the signature.

    `answers` maps item key to the answered value; `photo_counts` maps item key to the
    number of photos whose bytes the server holds.
    """
    unmet: list[Unmet] = []
    for item in items:
        if not item.get("required"):
            continue
        key = item["key"]
        count = photo_counts.get(key, 0)
        if item_satisfied(item, answers.get(key), count):
            continue
        kind = item["kind"]
        if kind == "photo":
            unmet.append(Unmet(key, kind, item["phase"], item["label"], "photos",
                               have=count, need=item.get("min_photos") or 1))
        else:
            unmet.append(Unmet(key, kind, item["phase"], item["label"],
                               "answer_yes" if kind == "check" else "answer"))
    if not has_signature:
        unmet.append(SIGNATURE_ITEM)
    return unmet


def validate_answer(item: dict, value) -> str | None:
    """Why `value` cannot answer `item`, or None when it can."""
    kind = item["kind"]
    if kind == "check":
        return None if isinstance(value, bool) else "check_needs_boolean"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value)
        return None if ok else "number_needed"
    if kind == "text":
        if not isinstance(value, str):
            return "text_needed"
        return None if len(value) <= 4000 else "text_too_long"
    if kind == "choice":
        # Compared by type too: an object or list is no option (and is not hashable), and
        # true is not the option 1.
        options = item.get("options") or []
        chosen = any(type(value) is type(o["value"]) and value == o["value"] for o in options)
        return None if chosen else "not_an_option"
    if kind == "photo":
        return "photo_item_takes_photos"
    return "unknown_kind"
