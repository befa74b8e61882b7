"""Display names for statuses, job types and roles, translated at render time."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from fieldapp.core import job_types

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
