"""The job lifecycle of the public contract, as one table.

Each row is a move: from-status, to-status, the roles that may make it, and what the move
requires (`reason`, a review `comment`, the completion rule, or `assignment`). Nothing else in
the code decides whether a status may change, and only `fieldapp.jobs.service.transition`
changes it (tests/core/test_status_writes.py fails on any other write).
"""
from __future__ import annotations

from dataclasses import dataclass

from .roles import ADMIN, DISPATCHER, SUPERVISOR, TECHNICIAN

NEW = "new"
SCHEDULED = "scheduled"
EN_ROUTE = "en_route"
ON_SITE = "on_site"
IN_PROGRESS = "in_progress"
PAUSED = "paused"
COMPLETED = "completed"
APPROVED = "approved"
REWORK = "rework"
UNSUCCESSFUL = "unsuccessful"
CANCELLED = "cancelled"

# Every job is created in this status (intake, a take-back's follow-up job).
INITIAL = NEW

STATUSES = (NEW, SCHEDULED, EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED, COMPLETED, APPROVED,
            REWORK, UNSUCCESSFUL, CANCELLED)

TECH = frozenset({TECHNICIAN})
DISPATCH = frozenset({DISPATCHER, ADMIN})
REVIEW = frozenset({SUPERVISOR, ADMIN})

# What a move needs: a `reason`, a review `comment`, the `completion` rule, or `assignment`:
# the move follows from (un)assigning or rescheduling a technician (the jobs service's
# assignment makes it, recorded in that event) and is never asked for by name.
REQUIREMENTS = frozenset({"reason", "comment", "completion", "assignment"})
BY_ASSIGNMENT = frozenset({"assignment"})

# (from, to): (roles, requirements)
TRANSITIONS: dict[tuple[str, str], tuple[frozenset, frozenset]] = {
    # The dispatcher schedules by assigning a technician and a time (see jobs service).
    (NEW, SCHEDULED): (DISPATCH, BY_ASSIGNMENT),
    (SCHEDULED, NEW): (DISPATCH, BY_ASSIGNMENT),            # unassigned again
    (UNSUCCESSFUL, SCHEDULED): (DISPATCH, BY_ASSIGNMENT),   # rescheduled after a failed visit
    # A new technician starts the visit from the beginning (rework stays rework).
    **{(s, SCHEDULED): (DISPATCH, BY_ASSIGNMENT)
       for s in (EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED)},
    # Technician steps.
    (SCHEDULED, EN_ROUTE): (TECH, frozenset()),
    (SCHEDULED, ON_SITE): (TECH, frozenset()),              # arrived without tapping "en route"
    (EN_ROUTE, ON_SITE): (TECH, frozenset()),
    (ON_SITE, IN_PROGRESS): (TECH, frozenset()),
    (IN_PROGRESS, PAUSED): (TECH, frozenset()),
    (PAUSED, IN_PROGRESS): (TECH, frozenset()),
    (IN_PROGRESS, COMPLETED): (TECH, frozenset({"completion"})),
    (REWORK, IN_PROGRESS): (TECH, frozenset()),
    (EN_ROUTE, UNSUCCESSFUL): (TECH, frozenset({"reason"})),
    (ON_SITE, UNSUCCESSFUL): (TECH, frozenset({"reason"})),
    (IN_PROGRESS, UNSUCCESSFUL): (TECH, frozenset({"reason"})),
    (PAUSED, UNSUCCESSFUL): (TECH, frozenset({"reason"})),
    # Supervisor sign-off.
    (COMPLETED, APPROVED): (REVIEW, frozenset()),
    (COMPLETED, REWORK): (REVIEW, frozenset({"comment"})),
    # Cancellation by the office, with a reason, from any open status.
    **{(s, CANCELLED): (DISPATCH, frozenset({"reason"}))
       for s in (NEW, SCHEDULED, EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED, UNSUCCESSFUL, REWORK)},
}

# Statuses in which the technician has started work on site; cancelling before this point
# takes the job off the technician's phone.
STARTED = frozenset({ON_SITE, IN_PROGRESS, PAUSED, COMPLETED, APPROVED, REWORK, UNSUCCESSFUL})
# Statuses a dispatcher may still reassign or reschedule from.
REASSIGNABLE = frozenset({NEW, SCHEDULED, EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED, UNSUCCESSFUL,
                          REWORK})
# The technician is on the way or at work: cancelling now needs the office's explicit
# override (the person in the field has to be told), API `"override": true`.
UNDER_WAY = frozenset({EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED})
# No change of any kind once here.
LOCKED = frozenset({APPROVED})
CLOSED = frozenset({APPROVED, CANCELLED})


@dataclass(frozen=True)
class MoveRefused(Exception):
    """Why a status move is not allowed: a stable code plus facts for the message."""

    code: str
    status_from: str
    status_to: str
    allowed: tuple[str, ...] = ()

    def __str__(self) -> str:  # pragma: no cover - for logs
        return f"{self.code}: {self.status_from} -> {self.status_to}"


def moves_from(status: str, role: str) -> tuple[str, ...]:
    """The statuses `role` may move a job to from `status`, in contract order."""
    return tuple(to for (frm, to), (roles, _) in TRANSITIONS.items()
                 if frm == status and role in roles)


def check_move(status_from: str, status_to: str, role: str) -> frozenset:
    """Return the move's requirements, or raise MoveRefused.

    `unknown_status` for a status the contract does not name, `illegal_transition` when no
    row exists, `forbidden_transition` when the row exists but not for this role.
    """
    if status_to not in STATUSES:
        raise MoveRefused("unknown_status", status_from, status_to)
    row = TRANSITIONS.get((status_from, status_to))
    if row is None:
        raise MoveRefused("illegal_transition", status_from, status_to,
                          moves_from(status_from, role))
    roles, requirements = row
    if role not in roles:
        raise MoveRefused("forbidden_transition", status_from, status_to,
                          moves_from(status_from, role))
    return requirements


def visible_to_assignee(status: str, work_started: bool) -> bool:
    """Does a job stay on its assigned technician's phone?

    A job cancelled before the technician started on site leaves the phone; one cancelled
    after work started stays, so the technician can see what happened to it.
    """
    return not (status == CANCELLED and not work_started)
