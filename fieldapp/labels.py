"""Display names for statuses, job types and roles, and job events as sentences, translated
at render time."""
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from fieldapp.core import job_types
from fieldapp.core.clock import ensure_aware

STATUS = {
    "new": _l("New"), "scheduled": _l("Scheduled"), "en_route": _l("En route"),
    "on_site": _l("On site"), "in_progress": _l("In progress"), "paused": _l("Paused"),
    "completed": _l("Completed"), "approved": _l("Approved"), "rework": _l("Rework"),
    "unsuccessful": _l("Unsuccessful"), "cancelled": _l("Cancelled"),
}


class Bilingual:
    """A {"zh-CN", "en"} label (data, like the checklists') that reads as the current
    locale's text, as a lazy gettext string does: English outside a request."""

    def __init__(self, texts: dict):
        self.texts = texts

    def __str__(self) -> str:
        locale = get_locale()
        return self.texts["zh-CN" if locale is not None and str(locale).startswith("zh")
                          else "en"]

    def __repr__(self) -> str:
        return f"Bilingual({self.texts!r})"


# Job types: named once, in core/job_types.py.
JOB_TYPE = {t.key: Bilingual(t.label) for t in job_types.TYPES}
ROLE = {"technician": _l("Technician"), "dispatcher": _l("Dispatcher"),
        "supervisor": _l("Supervisor"), "admin": _l("Administrator")}
SLA = {"first_contact": _l("First contact"), "response": _l("Response"),
       "resolution": _l("Resolution"), "running": _l("running"), "met": _l("met"),
       "breached": _l("breached")}
# The job events the office and the services record; the events of the phone's mutation types
# are labelled where each type is declared (sync/registry.py EVENT_LABELS).
EVENT = {
    "created": _l("Registered"),
    "assigned": _l("Assigned"),
    "unassigned": _l("Unassigned"),
    "rescheduled": _l("Rescheduled"),
    "contact": _l("Call"),
    "late_evidence": _l("Late evidence from a phone"),
    "conflict_resolved": _l("Late evidence decided"),
    "complaint": _l("Complaint"),
    "from_complaint": _l("Return visit for a complaint"),
    "escalated": _l("Escalated"),
    "reclassified": _l("Reclassified"),
    "job_created": _l("Return-visit job created"),
    "parts_decision": _l("Parts decision"),
    "parts_released": _l("Parts released"),
    "return_visit_created": _l("Return visit due"),
    "return_visit_answered": _l("Return visit answered"),
    "return_visit_follow_up": _l("Return visit follow-up"),
    "return_visit_survey_resent": _l("Survey link sent again"),
    "from_return_visit": _l("Opened by a return visit"),
}

# The desk's and the review's names for the desk's values.
CHANNEL_LABELS = {"phone": _l("Phone"), "store": _l("In store"), "online": _l("Online"),
                  "email": _l("Email")}
PRIORITY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent")}
OUTCOME_LABELS = {"reached": _l("Reached"), "no_answer": _l("No answer"), "busy": _l("Busy"),
                  "wrong_number": _l("Wrong number"), "left_message": _l("Left a message")}
ABOUT_LABELS = {"technician": _l("A technician"), "product": _l("A product"),
                "service": _l("The service")}
SEVERITY_LABELS = {"general": _l("General complaint"), "major": _l("Major complaint")}
COMPLAINT_STATUS_LABELS = {"open": _l("Open"), "escalated": _l("Escalated"),
                           "in_progress": _l("Being handled"), "resolved": _l("Resolved"),
                           "closed": _l("Closed")}
UNIT_LABELS = {"minutes": _l("minutes"), "hours": _l("hours"),
               "working_minutes": _l("working minutes"), "working_days": _l("working days")}
WEEKDAY_LABELS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                  _l("Saturday"), _l("Sunday")]
CLOCK_LABELS = {"first_contact": _l("First contact"), "response": _l("Response"),
                "resolution": _l("Resolution"), "escalation": _l("Escalation"),
                "coordination": _l("Coordination")}

# Parts requests' values (the review's parts pages, the parts log CSV, the job's timeline).
PARTS_KIND = {"replacement": _l("Replacement part"), "supplementary": _l("Supplementary part")}
PARTS_STATUS = {"pending": _l("Waiting for approval"), "approved": _l("Approved"),
                "refused": _l("Refused"), "released": _l("Released from the warehouse")}
PARTS_CAUSE = {
    "missing_in_delivery": _l("Missing in the delivery"),
    "damaged_in_transit": _l("Damaged in transport"),
    "manufacturing_defect": _l("Quality (manufacturing) defect"),
    "installation_damage": _l("Damaged during installation"),
    "wear": _l("Normal wear"),
    "customer_damage": _l("Damaged in use (by people)"),
    "other": _l("Other"),
}
# What `flask verify` and the review's seal page found, in words (core/seal.py's codes).
SEAL_PROBLEM = {
    "record_changed": _l("The record was changed after sign-off."),
    "job_deleted": _l("The sealed job is gone from the database."),
    "chain_broken": _l("The link to the seal before does not match: seals were changed."),
    "seq_gap": _l("A seal is missing from the chain."),
}
# Why a phone's change was kept aside, not applied (sync/engine.py's conflict reasons).
CONFLICT_REASON = {
    "reassigned": _l("the job had been given to another technician"),
    "not_yours": _l("the job was never this technician's"),
    "cancelled": _l("the job had been cancelled"),
    "approved": _l("the job had already been signed off"),
}
REVIEW_DECISION = {"approve": _l("Approved and sealed"), "rework": _l("Sent back for rework")}


# --- Events as sentences (issue 17) ---------------------------------------------------------
# The office reads what happened to a job as one sentence in its own language; the stored
# event (type, data) keeps its machine codes for the API. Unknown types fall back to their
# label, never to the code or the raw data.

def _zh() -> bool:
    locale = get_locale()
    return locale is None or str(locale).startswith("zh")


def _item_labels(items) -> dict:
    """key -> (label text in the reader's language, kind, options) of a template's items."""
    out = {}
    for item in items or ():
        rule = item.as_rule() if hasattr(item, "as_rule") else item
        out[rule["key"]] = rule
    return out


def _pick(label: dict | None) -> str:
    if not label:
        return ""
    return label.get("zh-CN" if _zh() else "en") or label.get("en") or ""


def iso_local(value, tz, unreadable: str | None = "—") -> str:
    """An ISO time from a record (an event's data) as the reader's wall clock, to the minute
    ("11-24 13:00"); a time without a zone is UTC. Unreadable: `unreadable`, or the value
    itself when that is None."""
    if not value:
        return "—"
    try:
        moment = ensure_aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return str(value) if unreadable is None else unreadable
    return (moment.astimezone(tz) if tz is not None else moment).strftime("%m-%d %H:%M")


def _with_note(text, note) -> str:
    note = (str(note).strip() if note is not None else "")
    return str(_l("%(text)s (%(note)s)", text=text, note=note)) if note else str(text)


def answer_value(rule: dict | None, value) -> str:
    """A checklist answer's value as the reader reads it: 是/否, an option's label."""
    kind = (rule or {}).get("kind")
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    if value is None:
        return "—"
    if kind == "choice":
        for option in (rule or {}).get("options") or ():
            if option.get("value") == value:
                return _pick(option.get("label")) or str(value)
    return str(value)


def event_sentence(type_: str, data: dict | None, *, items=None, users=None, tz=None,
                   event_labels=None, mutation_labels=None, reasons=None) -> str:
    """One job event as a sentence in the current locale ("确认「穿鞋套」：是"): who did it is
    shown beside it. `items` are the job's checklist items, `users` {id: user},
    `event_labels` {type: label} (the registry's and the office's), `mutation_labels`
    {mutation type: label}, `reasons` {error code: message}."""
    d = data or {}
    rules = _item_labels(items)
    names = users or {}

    def item(key):
        return _pick((rules.get(key) or {}).get("label")) or str(_l("an item no longer listed"))

    def user(uid):
        found = names.get(uid)
        return getattr(found, "display_name", None) or (
            found.get("display_name") if isinstance(found, dict) else None) or "—"

    def status(code):
        return str(STATUS.get(code, _l("an unknown status")))

    if type_ == "created":
        if d.get("source_job_ref"):
            return str(_l("Registered job %(ref)s to bring back the product of %(source)s",
                          ref=d.get("ref", ""), source=d["source_job_ref"]))
        return str(_l("Registered job %(ref)s", ref=d.get("ref", "")))
    if type_ == "assigned":
        if d.get("from_technician_id"):
            return str(_l("Reassigned from %(old)s to %(new)s",
                          old=user(d["from_technician_id"]), new=user(d.get("to_technician_id"))))
        return str(_l("Assigned to %(name)s", name=user(d.get("to_technician_id"))))
    if type_ == "unassigned":
        return str(_l("Took the job off %(name)s", name=user(d.get("from_technician_id"))))
    if type_ == "rescheduled":
        to = d.get("to") or [None, None]
        return str(_l("Moved the visit to %(start)s–%(end)s", start=iso_local(to[0], tz),
                      end=iso_local(to[1], tz)[-5:]))
    if type_ == "contact":
        text = str(_l("Called the customer: %(outcome)s",
                      outcome=OUTCOME_LABELS.get(d.get("outcome"), _l("no result noted"))))
        return _with_note(text, d.get("note"))
    if type_ == "status":
        to = d.get("to")
        # An override (issue 17) is part of what was decided, so part of the sentence.
        if to == "approved" and d.get("override"):
            text = str(_l("Approved and sealed the job over the open complaint %(refs)s",
                          refs=", ".join(d.get("open_complaints") or ())))
        elif to == "approved":
            text = str(_l("Approved and sealed the job"))
        elif to == "rework":
            text = str(_l("Sent the job back for rework"))
        elif to == "cancelled" and d.get("override"):
            text = str(_l("Cancelled the job while it was under way"))
        elif to == "cancelled":
            text = str(_l("Cancelled the job"))
        else:
            text = str(_l("Changed the status from %(old)s to %(new)s",
                          old=status(d.get("from")), new=status(to)))
        return _with_note(text, d.get("reason") or d.get("comment"))
    if type_ == "answer":
        rule = rules.get(d.get("item_key"))
        value = answer_value(rule, d.get("value"))
        if (rule or {}).get("kind") == "check":
            text = str(_l("Confirmed “%(item)s”: %(value)s", item=item(d.get("item_key")),
                          value=value))
        else:
            text = str(_l("Recorded “%(item)s”: %(value)s", item=item(d.get("item_key")),
                          value=value))
        return _with_note(text, d.get("note"))
    if type_ == "note":
        return str(_l("Added a note: %(text)s", text=d.get("text") or d.get("note") or ""))
    if type_ == "photo":
        if d.get("item_key"):
            return str(_l("Took a photo for “%(item)s”", item=item(d["item_key"])))
        return str(_l("Took a photo"))
    if type_ == "photo_removed":
        if d.get("item_key"):
            return str(_l("Took back a photo of “%(item)s”", item=item(d["item_key"])))
        return str(_l("Took back a photo"))
    if type_ == "signature":
        return str(_l("Took the customer signature of %(name)s",
                      name=_with_note(d.get("signer_name") or "—", d.get("signer_relation"))))
    if type_ == "late_evidence":
        kind = (mutation_labels or {}).get(d.get("mutation_type"))
        reason = (reasons or {}).get(d.get("reason"))
        return _with_note(str(_l("Late evidence from a phone: %(what)s",
                                 what=kind or _l("a change"))), reason)
    if type_ == "conflict_resolved":
        return str(_l("Decided on late evidence: %(decision)s",
                      decision=d.get("resolution") or "—"))
    if type_ == "complaint":
        return str(_l("Complaint %(ref)s registered (%(severity)s)", ref=d.get("ref", ""),
                      severity=SEVERITY_LABELS.get(d.get("severity"), _l("Complaint"))))
    if type_ == "from_complaint":
        return str(_l("Registered for complaint %(ref)s", ref=d.get("ref", "")))
    if type_ == "parts_request":
        text = str(_l("Requested %(quantity)s × %(part)s (%(kind)s)",
                      quantity=d.get("quantity", ""), part=d.get("part_name", ""),
                      kind=PARTS_KIND.get(d.get("kind"), _l("Parts request"))))
        return _with_note(text, d.get("reason"))
    if type_ == "parts_decision":
        if d.get("decision") == "approve" or d.get("status") == "approved":
            text = str(_l("Approved the parts request for %(part)s", part=d.get("part_name", "")))
        else:
            text = str(_l("Refused the parts request for %(part)s", part=d.get("part_name", "")))
        return _with_note(text, d.get("reason"))
    if type_ == "parts_released":
        return str(_l("Released %(quantity)s × %(part)s from the warehouse",
                      quantity=d.get("quantity", ""), part=d.get("part_name", "")))
    if type_ == "takeback_receipt":
        return str(_l("Took the product away for repair: receipt %(no)s, follow-up job %(ref)s",
                      no=d.get("receipt_no", ""), ref=d.get("followup_ref", "")))
    if type_ == "takeback_return":
        return _with_note(str(_l("Brought the product back: receipt %(no)s",
                                 no=d.get("receipt_no", ""))), d.get("note"))
    if type_ == "return_visit_created":
        return str(_l("Return visit due by %(due)s", due=iso_local(d.get("due_at"), tz)))
    if type_ == "return_visit_survey_resent":
        return str(_l("Sent a new survey link, valid until %(until)s",
                      until=iso_local(d.get("expires_at"), tz)))
    if type_ == "return_visit_answered":
        text = _with_note(str(_l("Return visit answered: %(score)s of 5",
                                 score=d.get("score", "—"))), d.get("comment"))
        if d.get("issues"):
            text = str(_l("%(text)s; still open: %(issues)s", text=text, issues=d["issues"]))
        return text
    if type_ == "return_visit_follow_up":
        return str(_l("The return visit opened a follow-up"))
    if type_ == "from_return_visit":
        if d.get("ref"):
            return str(_l("Registered after the return visit of %(ref)s", ref=d["ref"]))
        return str(_l("Registered after a return visit"))
    label = (event_labels or {}).get(type_) or EVENT.get(type_)
    return str(label) if label is not None else str(_l("Other change"))


def complaint_sentence(type_: str, data: dict | None, *, users=None) -> str:
    """One complaint event (complaints/service.py record_event) as a sentence in the current
    locale, as event_sentence does for a job's: codes and ids stay in the record."""
    d = data or {}
    names = users or {}

    def user(uid):
        return getattr(names.get(uid), "display_name", None) or str(_l("a supervisor"))

    def status(code):
        return str(COMPLAINT_STATUS_LABELS.get(code, _l("an unknown status")))

    if type_ == "created":
        return str(_l("Complaint %(ref)s registered (%(severity)s)", ref=d.get("ref", ""),
                      severity=SEVERITY_LABELS.get(d.get("severity"), _l("Complaint"))))
    if type_ == "reclassified":
        return _with_note(str(_l("Reclassified as %(severity)s", severity=SEVERITY_LABELS.get(
            d.get("to"), _l("Complaint")))), d.get("note"))
    if type_ == "escalated":
        return _with_note(str(_l("Escalated to %(name)s", name=user(d.get("supervisor_id")))),
                          d.get("note"))
    if type_ == "status":
        text = str(_l("Changed the status from %(old)s to %(new)s", old=status(d.get("from")),
                      new=status(d.get("to"))))
        return _with_note(text, d.get("result") or d.get("note"))
    if type_ == "contact":
        text = str(_l("Called the customer: %(outcome)s",
                      outcome=OUTCOME_LABELS.get(d.get("outcome"), _l("no result noted"))))
        if d.get("satisfied") is not None:
            text = str(_l("%(text)s; the customer is %(satisfaction)s", text=text,
                          satisfaction=_l("satisfied") if d["satisfied"] else
                          _l("not satisfied")))
        return _with_note(text, d.get("note"))
    if type_ == "note":
        return str(_l("Added a note: %(text)s", text=d.get("note") or d.get("text") or ""))
    if type_ == "job_created":
        return str(_l("Created the return-visit job %(ref)s (%(type)s)", ref=d.get("ref", ""),
                      type=JOB_TYPE.get(d.get("type"), _l("Job"))))
    if type_ == "from_return_visit":
        return str(_l("Opened by a return visit answered %(score)s of 5",
                      score=d.get("score", "—")))
    label = EVENT.get(type_)
    return str(label) if label is not None else str(_l("Other change"))
