"""The complaint lifecycle (seed-rules section 6), as one table, plain Python.

A complaint is classified general or major at intake (一般投诉 / 重大投诉). A major one must be
reported to a supervisor within 1 hour (the `escalation` clock); every complaint must have the
departments concerned coordinated within 24 hours (the `coordination` clock: met when handling
starts, `in_progress`, or when it is resolved). It stays open until the customer is satisfied:
`closed` is reachable only from `resolved`, and only with the customer's satisfaction on
record; an unsatisfied customer sends it back to `in_progress` (001 §五.3(5)).
"""
from __future__ import annotations

from . import sla

OPEN, ESCALATED, IN_PROGRESS, RESOLVED, CLOSED = (
    "open", "escalated", "in_progress", "resolved", "closed")
STATUSES = (OPEN, ESCALATED, IN_PROGRESS, RESOLVED, CLOSED)
ACTIVE = frozenset({OPEN, ESCALATED, IN_PROGRESS})  # still being handled

GENERAL, MAJOR = "general", "major"
SEVERITIES = (GENERAL, MAJOR)
ABOUT = ("technician", "product", "service")

MOVES: dict[str, tuple[str, ...]] = {
    OPEN: (ESCALATED, IN_PROGRESS, RESOLVED),
    ESCALATED: (IN_PROGRESS, RESOLVED),
    IN_PROGRESS: (ESCALATED, RESOLVED),
    RESOLVED: (IN_PROGRESS, CLOSED),  # back to work when the customer is not satisfied
    CLOSED: (),
}

# Which clock a move to a status meets (the first time).
MEETS: dict[str, tuple[str, ...]] = {
    ESCALATED: (sla.ESCALATION,),
    IN_PROGRESS: (sla.COORDINATION,),
    RESOLVED: (sla.COORDINATION,),
}
CLOCK_ORDER = (sla.ESCALATION, sla.COORDINATION)


class MoveRefused(Exception):
    def __init__(self, code: str, status_from: str, status_to: str):
        super().__init__(code)
        self.code, self.status_from, self.status_to = code, status_from, status_to
        self.allowed = MOVES.get(status_from, ())


def check_move(status_from: str, status_to: str) -> None:
    """Raise MoveRefused unless the complaint may go from one status to the other."""
    if status_to not in STATUSES:
        raise MoveRefused("unknown_status", status_from, status_to)
    if status_to not in MOVES.get(status_from, ()):
        raise MoveRefused("illegal_complaint_transition", status_from, status_to)
