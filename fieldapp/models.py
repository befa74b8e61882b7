"""Every domain's models in one place, for Alembic (migrations/env.py) and old imports.
Each table lives beside its domain: `fieldapp/<domain>/models.py`."""
from fieldapp.accounts.models import Device, DeviceEvent, LoginFailure, User  # noqa: F401
from fieldapp.blobs.models import Blob, BlobUpload  # noqa: F401
from fieldapp.complaints.models import Complaint, ComplaintContact, ComplaintEvent, ComplaintJob  # noqa: F401
from fieldapp.jobs.models import (  # noqa: F401
    ChecklistAnswer,
    ChecklistItem,
    ChecklistTemplate,
    Conflict,
    ContactAttempt,
    Counter,
    Customer,
    Job,
    JobAssignment,
    JobEvent,
    Note,
    Photo,
    Review,
    Signature,
    SlaClock,
    SyncRemoval,
)
from fieldapp.notifications.models import Delivery, Notification  # noqa: F401
from fieldapp.orm import AuditTrailIsAppendOnly, Base, UTCDateTime, new_id  # noqa: F401
from fieldapp.parts.models import PartsRequest, Takeback  # noqa: F401
from fieldapp.scheduler.models import RuleFiring, SchedulerLease  # noqa: F401
from fieldapp.sealing.models import Seal  # noqa: F401
from fieldapp.settings.models import Setting, SettingChange  # noqa: F401
from fieldapp.visits.models import ReturnVisit  # noqa: F401
from sync.models import MutationRecord  # noqa: F401

__all__ = [
    "new_id",
    "UTCDateTime",
    "Base",
    "User",
    "Device",
    "DeviceEvent",
    "LoginFailure",
    "Customer",
    "ChecklistTemplate",
    "ChecklistItem",
    "Job",
    "JobAssignment",
    "SyncRemoval",
    "ChecklistAnswer",
    "Photo",
    "Signature",
    "Note",
    "ContactAttempt",
    "SlaClock",
    "Review",
    "Conflict",
    "JobEvent",
    "AuditTrailIsAppendOnly",
    "Counter",
    "Blob",
    "BlobUpload",
    "PartsRequest",
    "Takeback",
    "MutationRecord",
    "Setting",
    "SettingChange",
    "Complaint",
    "ComplaintContact",
    "ComplaintJob",
    "ComplaintEvent",
    "ReturnVisit",
    "Seal",
    "Notification",
    "Delivery",
    "RuleFiring",
    "SchedulerLease",
]
