"""The job state machine: one table decides every status move, for every role."""
from itertools import product

import pytest

from fieldapp.core import states
from fieldapp.core.roles import ADMIN, DISPATCHER, ROLES, SUPERVISOR, TECHNICIAN
from fieldapp.core.states import (
    STATUSES,
    TRANSITIONS,
    MoveRefused,
    check_move,
    moves_from,
    visible_to_assignee,
)

ALL_MOVES = list(product(STATUSES, STATUSES, ROLES))


def _expected_allowed(frm: str, role: str) -> tuple:
    return tuple(to for (f, to), (roles, _) in TRANSITIONS.items() if f == frm and role in roles)


@pytest.mark.parametrize("frm,to,role", ALL_MOVES,
                         ids=[f"{f}->{t}:{r}" for f, t, r in ALL_MOVES])
def test_every_pair_for_every_role(frm, to, role):
    row = TRANSITIONS.get((frm, to))
    if row is not None and role in row[0]:
        assert check_move(frm, to, role) == row[1]
        assert to in moves_from(frm, role)
        return
    with pytest.raises(MoveRefused) as refused:
        check_move(frm, to, role)
    error = refused.value
    assert error.code == ("illegal_transition" if row is None else "forbidden_transition")
    assert (error.status_from, error.status_to) == (frm, to)
    assert error.allowed == _expected_allowed(frm, role)
    assert to not in error.allowed
    assert to not in moves_from(frm, role)


def test_table_only_names_contract_statuses_and_roles():
    assert set(STATUSES) == {"new", "scheduled", "en_route", "on_site", "in_progress", "paused",
                             "completed", "approved", "rework", "unsuccessful", "cancelled"}
    for (frm, to), (roles, requirements) in TRANSITIONS.items():
        assert frm in STATUSES and to in STATUSES and frm != to
        assert roles and roles <= set(ROLES)
        assert requirements <= {"reason", "comment", "completion", "assignment"}
        assert requirements <= states.REQUIREMENTS


@pytest.mark.parametrize("to", ["done", "", "APPROVED", "in progress", None])
@pytest.mark.parametrize("role", ROLES)
def test_unknown_status_refused(to, role):
    with pytest.raises(MoveRefused) as refused:
        check_move("in_progress", to, role)
    assert refused.value.code == "unknown_status"
    assert refused.value.allowed == ()


def test_contract_path_technician_steps():
    path = ["scheduled", "en_route", "on_site", "in_progress", "paused", "in_progress"]
    for frm, to in zip(path, path[1:]):
        assert check_move(frm, to, TECHNICIAN) == frozenset()
    assert check_move("in_progress", "completed", TECHNICIAN) == {"completion"}
    assert check_move("rework", "in_progress", TECHNICIAN) == frozenset()


def test_office_roles_make_no_technician_step():
    for role in (DISPATCHER, SUPERVISOR, ADMIN):
        for frm, to in [("scheduled", "en_route"), ("on_site", "in_progress"),
                        ("in_progress", "completed"), ("rework", "in_progress")]:
            with pytest.raises(MoveRefused) as refused:
                check_move(frm, to, role)
            assert refused.value.code == "forbidden_transition"


def test_technician_cannot_approve_cancel_or_schedule():
    for frm, to in [("completed", "approved"), ("completed", "rework"), ("new", "scheduled"),
                    ("in_progress", "cancelled")]:
        with pytest.raises(MoveRefused) as refused:
            check_move(frm, to, TECHNICIAN)
        assert refused.value.code == "forbidden_transition"
        assert refused.value.allowed == moves_from(frm, TECHNICIAN)


def test_allowed_list_names_what_the_role_may_do():
    with pytest.raises(MoveRefused) as refused:
        check_move("in_progress", "approved", TECHNICIAN)
    assert refused.value.code == "illegal_transition"
    assert set(refused.value.allowed) == {"paused", "completed", "unsuccessful"}
    with pytest.raises(MoveRefused) as refused:
        check_move("completed", "cancelled", DISPATCHER)
    assert refused.value.code == "illegal_transition"
    assert refused.value.allowed == ()


@pytest.mark.parametrize("frm", ["en_route", "on_site", "in_progress", "paused"])
def test_unsuccessful_needs_reason(frm):
    assert check_move(frm, "unsuccessful", TECHNICIAN) == {"reason"}


@pytest.mark.parametrize("frm", ["new", "scheduled", "en_route", "on_site", "in_progress",
                                 "paused", "unsuccessful", "rework"])
@pytest.mark.parametrize("role", [DISPATCHER, ADMIN])
def test_cancel_needs_reason_from_every_open_status(frm, role):
    assert check_move(frm, "cancelled", role) == {"reason"}


@pytest.mark.parametrize("frm", ["completed", "approved", "cancelled"])
def test_no_cancel_once_completed_or_closed(frm):
    for role in ROLES:
        with pytest.raises(MoveRefused):
            check_move(frm, "cancelled", role)


def test_review_moves():
    for role in (SUPERVISOR, ADMIN):
        assert check_move("completed", "approved", role) == frozenset()
        assert check_move("completed", "rework", role) == {"comment"}
    with pytest.raises(MoveRefused) as refused:
        check_move("completed", "approved", DISPATCHER)
    assert refused.value.code == "forbidden_transition"


def test_approved_is_locked():
    assert states.LOCKED == {"approved"}
    for to, role in product(STATUSES, ROLES):
        assert moves_from("approved", role) == ()
        with pytest.raises(MoveRefused):
            check_move("approved", to, role)


def test_completion_requirement_only_on_completed():
    for (frm, to), (_, requirements) in TRANSITIONS.items():
        assert ("completion" in requirements) == (to == "completed")
        assert ("comment" in requirements) == (to == "rework")
        assert ("reason" in requirements) == (to in ("unsuccessful", "cancelled"))


@pytest.mark.parametrize("status", STATUSES)
def test_visible_to_assignee(status):
    assert visible_to_assignee(status, True) is True
    assert visible_to_assignee(status, False) is (status != "cancelled")


# The moves that follow from (un)assigning or rescheduling a technician (jobs service's
# assignment): office only, never asked for by name, each in the table.
ASSIGNMENT_MOVES = {("new", "scheduled"), ("scheduled", "new"), ("unsuccessful", "scheduled"),
                    ("en_route", "scheduled"), ("on_site", "scheduled"),
                    ("in_progress", "scheduled"), ("paused", "scheduled")}


def test_assignment_moves_are_the_dispatchers_and_only_by_assignment():
    by_assignment = {pair for pair, (_, requirements) in TRANSITIONS.items()
                     if "assignment" in requirements}
    assert by_assignment == ASSIGNMENT_MOVES
    for frm, to in ASSIGNMENT_MOVES:
        for role in (DISPATCHER, ADMIN):
            assert check_move(frm, to, role) == {"assignment"}
        for role in (TECHNICIAN, SUPERVISOR):
            with pytest.raises(MoveRefused) as refused:
                check_move(frm, to, role)
            assert refused.value.code == "forbidden_transition"
    # rework stays rework when reassigned: no such row
    with pytest.raises(MoveRefused):
        check_move("rework", "scheduled", DISPATCHER)


def test_jobs_start_new():
    assert states.INITIAL == "new"
