"""The supervisor's face at /review/: the queue of completed jobs (oldest first), one job's
evidence and the sign-off, the service report, seal verification and KPIs (pages.py);
notifications and complaints read (issue 7); the parts queue and log (issue 8).

Every page is for supervisors and admins only (role_required(REVIEW_ROLES) on the blueprint).
Pages call the services through office_action (fieldapp/web.py): one commit, and a refused
change (DomainError) shown as a message."""
from __future__ import annotations

from . import notifications, pages, parts  # noqa: F401
from .blueprint import bp  # noqa: F401
