"""/dispatch/settings: the SLA limits and the working calendar live in the database, are
validated field by field, and every process follows a change."""
from datetime import date, time

import pytest

from tests.dispatch.test_desk_clocks import settings_form
from tests.support.deskkit import Desk


def changes(app):
    from fieldapp.extensions import db
    from fieldapp.models import SettingChange

    with app.app_context():
        return db.session.query(SettingChange).count()


def test_the_page_shows_the_defaults(app, demo):
    form = settings_form(Desk(app, "admin"))
    assert form["working_weekdays"] == ["0", "1", "2", "3", "4"]
    assert (form["day_start"], form["day_end"]) == ("09:00", "18:00")
    assert (form["first_contact__amount"], form["first_contact__unit"]) == ("5",
                                                                           "working_minutes")
    assert (form["response__amount"], form["response__unit"]) == ("24", "hours")
    assert (form["resolution__repair__amount"], form["resolution__repair__unit"]) == \
        ("3", "working_days")
    assert (form["resolution__delivery__amount"], form["resolution__delivery__unit"]) == \
        ("48", "hours")
    assert (form["complaint_escalation__amount"], form["complaint_escalation__unit"]) == \
        ("1", "hours")
    assert form["complaint_coordination__amount"] == "24"
    assert form["warn_percent"] == "25" and form["offline_after_minutes"] == "120"


@pytest.mark.parametrize("changes_,message", [
    ({"working_weekdays": []}, "Choose at least one working day."),
    ({"day_start": "18:00", "day_end": "09:00"}, "The end must be after the start."),
    ({"holidays": "2026-10-01\nnational day"}, "Line 2 is not a date or a range of dates."),
    ({"holidays": "2026-10-07..2026-10-01"}, "Line 1 is not a date or a range of dates."),
    ({"first_contact__amount": "0"}, "Number must be between 1 and 100000."),
    ({"response__unit": "fortnights"}, "Not a valid choice"),
    ({"warn_percent": "100"}, "Number must be between 1 and 99."),
])
def test_a_wrong_setting_is_named_and_nothing_is_saved(app, demo, changes_, message):
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form.update(changes_)
    response = admin.post("/dispatch/settings", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    assert changes(app) == 0


def test_holidays_are_kept_and_shown_as_ranges(app, demo):
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["holidays"] = "2026-10-01..2026-10-07  # 国庆\n2027-01-01\n\n2026-10-03"
    assert admin.post("/dispatch/settings", data=form).status_code == 302
    assert "Settings saved" in admin.html("/dispatch/settings")
    policy = app.extensions["fieldapp.policy"]
    assert len(policy.holidays) == 8 and date(2026, 10, 4) in policy.holidays
    assert settings_form(admin)["holidays"] == "2026-10-01..2026-10-07\n2027-01-01"


def test_every_process_follows_a_saved_change(app, db_url, demo, clock):
    from fieldapp import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "CLOCK": clock,
                        "SECRET_KEY": "test-secret", "SETTINGS_TTL": 0})
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["day_start"], form["first_contact__amount"] = "08:30", "15"
    assert admin.post("/dispatch/settings", data=form).status_code == 302
    other.test_client().get("/login")  # any request re-reads the settings
    policy = other.extensions["fieldapp.policy"]
    assert policy.day_start == time(8, 30) and policy.first_contact.amount == 15
    assert policy.timezone == "Asia/Shanghai"
    with other.app_context():
        from fieldapp.extensions import db

        db.engine.dispose()


def test_a_broken_stored_value_falls_back_to_the_defaults(app, demo):
    from fieldapp.core.sla import SlaPolicy
    from fieldapp.extensions import db
    from fieldapp.models import Setting
    from fieldapp.settings import service as settings

    with app.app_context():
        db.session.add(Setting(key="sla_policy", value={"day_start": "nonsense"}))
        db.session.commit()
    settings.refresh(app, force=True)
    assert app.extensions["fieldapp.policy"] == SlaPolicy(timezone="Asia/Shanghai")


def test_the_service_refuses_non_admins(app, demo):
    from fieldapp.accounts.context import Actor, Ctx
    from fieldapp.core.errors import Forbidden
    from fieldapp.extensions import db
    from fieldapp.models import User
    from fieldapp.settings import service as settings

    with app.app_context():
        ctx = Ctx(session=db.session, clock=app.extensions["fieldapp.clock"])
        with pytest.raises(Forbidden):
            settings.save(ctx, Actor(user=db.session.get(User, demo["dispatcher1"])), {}, {})
