"""The one way an office page changes something (fieldapp/web.py office_action) and the one
guard (role_required), on the real app and database: a refused change stores nothing and is
shown in the reader's language, next to its field when the form is shown again."""
from __future__ import annotations

import pytest
from flask import get_flashed_messages, session
from flask_login import login_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden
from wtforms import StringField

from fieldapp.accounts.models import User
from fieldapp.core.errors import DomainError
from fieldapp.core.roles import DISPATCH_ROLES
from fieldapp.extensions import db
from fieldapp.faces.dispatch.blueprint import bp as dispatch_bp
from fieldapp.faces.review.blueprint import bp as review_bp
from fieldapp.notifications.models import Notification
from fieldapp.web import FieldError, flashed, office_action, role_required


class PhoneForm(FlaskForm):
    class Meta:
        csrf = False

    phone = StringField()


def _notifications() -> int:
    return db.session.execute(select(func.count(Notification.id))).scalar()


def _store_one(demo, clock) -> Notification:
    """A row the change writes before it is refused (so a rollback has something to undo)."""
    row = Notification(user_id=demo["dispatcher1"], kind="test", subject="s", body="b",
                       key="office-action-test", created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return row


def refuse(error: Exception):
    def change():
        raise error
    return change


@pytest.mark.parametrize("lang,text", [("zh-CN", "电话号码无效。"),
                                       ("en", "The phone number is not valid.")])
def test_a_refused_change_stores_nothing_and_is_flashed_in_the_readers_language(
        app, demo, clock, lang, text):
    with app.test_request_context("/dispatch/x", headers={"Accept-Language": lang}):
        before = _notifications()

        def change():
            _store_one(demo, clock)
            raise DomainError("bad_phone", {"phone": "1"})

        response = office_action(change, lambda _r: pytest.fail("not done"), back="/dispatch/")
        assert (response.status_code, response.location) == (302, "/dispatch/")
        assert _notifications() == before
        assert get_flashed_messages(with_categories=True) == [("error", text)]


def test_a_refusal_goes_next_to_its_field_when_the_form_is_shown_again(app, demo, clock):
    with app.test_request_context("/dispatch/intake", method="POST", data={"phone": "1"},
                                  headers={"Accept-Language": "en"}):
        form = PhoneForm()
        before = _notifications()

        def change():
            _store_one(demo, clock)
            raise DomainError("bad_phone")

        response = office_action(change, lambda _r: pytest.fail("not done"),
                                 render=lambda: "page", form=form,
                                 fields={"bad_phone": "phone"})
        assert response == "page" and _notifications() == before
        assert form.phone.errors == ["The phone number is not valid."]
        assert "_flashes" not in session  # (read raw: get_flashed_messages caches per request)
        # A code without a field of its own is flashed instead.
        office_action(refuse(DomainError("job_closed")), lambda _r: None,
                      render=lambda: "page", form=form, fields={"bad_phone": "phone"})
        assert session["_flashes"] == [("error", "The job is closed and cannot be changed.")]
        # An input refused outside the services (FieldError) goes next to its field too.
        assert office_action(refuse(FieldError("phone", "not an image")), lambda _r: None,
                             render=lambda: "page", form=form) == "page"
        assert form.phone.errors[-1] == "not an image"


def test_a_done_change_is_committed_then_answered(app, demo, clock):
    with app.test_request_context("/dispatch/x"):
        before = _notifications()
        response = office_action(lambda: _store_one(demo, clock),
                                 lambda row: flashed(f"stored {row.kind}", "/dispatch/done"))
        db.session.remove()  # a fresh session sees only what was committed
        assert _notifications() == before + 1
        assert response.location == "/dispatch/done"
        assert get_flashed_messages(with_categories=True) == [("ok", "stored test")]


def test_refused_hook_answers_first(app, demo):
    with app.test_request_context("/dispatch/x"):
        response = office_action(refuse(DomainError("x", status=403)), lambda _r: None, back="/",
                                 refused=lambda error: ("forbidden", error.status))
        assert response == ("forbidden", 403)
        assert get_flashed_messages() == []


def test_the_office_blueprints_are_guarded_by_role_required():
    """Both office faces guard every route with the same check, registered on the blueprint."""
    for bp in (dispatch_bp, review_bp):
        guards = bp.before_request_funcs.get(None, [])
        assert [f.__qualname__ for f in guards] == ["role_required.<locals>.refusal"]


@pytest.mark.parametrize("who,status", [(None, 302), ("tech1", 403), ("supervisor1", 403),
                                        ("dispatcher1", 200), ("admin", 200)])
def test_role_required_on_a_view(app, demo, who, status):
    view = role_required(DISPATCH_ROLES)(lambda: ("fine", 200))
    with app.test_request_context("/dispatch/x"):
        if who:
            login_user(db.session.get(User, demo[who]))
        if status == 403:
            with pytest.raises(Forbidden):
                view()
            return
        response = view()
        code = response[1] if isinstance(response, tuple) else response.status_code
        assert code == status
