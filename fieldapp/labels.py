"""Display names for statuses, job types and roles, translated at render time."""
from flask_babel import lazy_gettext as _l

STATUS = {
    "new": _l("New"), "scheduled": _l("Scheduled"), "en_route": _l("En route"),
    "on_site": _l("On site"), "in_progress": _l("In progress"), "paused": _l("Paused"),
    "completed": _l("Completed"), "approved": _l("Approved"), "rework": _l("Rework"),
    "unsuccessful": _l("Unsuccessful"), "cancelled": _l("Cancelled"),
}
JOB_TYPE = {"delivery": _l("Delivery"), "installation": _l("Installation"),
            "repair": _l("Repair"), "inspection": _l("Inspection")}
ROLE = {"technician": _l("Technician"), "dispatcher": _l("Dispatcher"),
        "supervisor": _l("Supervisor"), "admin": _l("Administrator")}
SLA = {"first_contact": _l("First contact"), "response": _l("Response"),
       "resolution": _l("Resolution"), "running": _l("running"), "met": _l("met"),
       "breached": _l("breached")}
