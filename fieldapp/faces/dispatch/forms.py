"""The desk's forms (Flask-WTF: CSRF on every POST, a message per field)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from fieldapp import labels
from fieldapp.core import complaints as complaint_rules
from fieldapp.core import sla as sla_rules
from fieldapp.core.job_types import FOLLOW_UP_TYPES, JOB_TYPES
from fieldapp.jobs.service import CHANNELS, CONTACT_OUTCOMES, PRIORITIES, phone_key
from fieldapp.labels import (  # noqa: F401  (the desk's modules import them from here too)
    ABOUT_LABELS,
    CHANNEL_LABELS,
    CLOCK_LABELS,
    COMPLAINT_STATUS_LABELS,
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    SEVERITY_LABELS,
    UNIT_LABELS,
    WEEKDAY_LABELS,
)
from fieldapp.web import FIRST_DAY, LAST_DAY, DeskLabels, day_in_range  # noqa: F401


class DayField(DateField):
    """A date typed on a page: FIRST_DAY..LAST_DAY, else a field error and no value (a
    filter then ignores it, as it does a date that does not parse)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not day_in_range(self.data):
            self.data = None
            raise ValueError(str(_l("Enter a date between %(first)s and %(last)s.",
                                    first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())))


def opts(pairs) -> list[SelectChoice]:
    """Choices as WTForms wants them (value, label)."""
    return [SelectChoice(value, label) for value, label in pairs]


def valid_phone(form, field):
    if len(phone_key(field.data or "")) < 7:
        raise ValidationError(_l("Enter a phone number with at least 7 digits."))


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class WindowMixin:
    """A visit window in the business's local time: a day, a start and an optional end."""

    def check_window(self, need_start: bool) -> bool:
        ok = True
        if need_start and (self.day.data is None or self.start.data is None):
            for f in (self.day, self.start):
                if f.data is None:
                    f.errors = list(f.errors) + [_l("Needed to assign a technician.")]
            ok = False
        if self.end.data is not None and self.start.data is not None and \
                self.end.data <= self.start.data:
            self.end.errors = list(self.end.errors) + [_l("The end must be after the start.")]
            ok = False
        if self.end.data is not None and self.start.data is None:
            self.start.errors = list(self.start.errors) + [_l("Give a start time too.")]
            ok = False
        return ok

    def window(self, tz) -> tuple[datetime | None, datetime | None]:
        if self.day.data is None or self.start.data is None:
            return None, None
        start = datetime.combine(self.day.data, self.start.data, tz)
        end = datetime.combine(self.day.data, self.end.data, tz) if self.end.data else None
        return start, end


def visit_fields(day_label) -> tuple:
    """A form's technician (optional) and visit window fields, made where the form declares
    them so that they keep their place among its fields."""
    return (SelectField(_l("Technician"), coerce=optional_int, validate_choice=False,
                        validators=[Optional()]),
            DayField(day_label, validators=[Optional()]),
            TimeField(_l("From"), validators=[Optional()]),
            TimeField(_l("To"), validators=[Optional()]))


class VisitForm(FlaskForm, WindowMixin):
    """A form that may put a technician on a visit (`visit_fields`): with a technician, the
    day and the start are needed."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_window(need_start=self.technician_id.data is not None) and ok


class IntakeForm(VisitForm):
    """The after-sales problem registration form (售后问题登记表)."""

    type = SelectField(_l("Job type"),
                       choices=opts([(t, labels.JOB_TYPE[t]) for t in JOB_TYPES]),
                       default="repair", validators=[DataRequired()])
    name = StringField(_l("Customer name"), validators=[
        DataRequired(_l("Enter the customer's name.")), Length(max=120)])
    phone = StringField(_l("Contact phone"), validators=[
        DataRequired(_l("Enter the customer's phone number.")), Length(max=32), valid_phone])
    address = StringField(_l("Address"), validators=[
        DataRequired(_l("Enter the address of the visit.")), Length(max=500)])
    product_model = StringField(_l("Product model"), validators=[
        DataRequired(_l("Enter the product model.")), Length(max=200)])
    problem = TextAreaField(_l("Problem"), validators=[
        DataRequired(_l("Describe the problem.")), Length(max=3000)])
    symptoms = TextAreaField(_l("Fault symptoms"), validators=[Optional(), Length(max=1000)])
    channel = SelectField(_l("Channel"),
                          choices=opts([(c, CHANNEL_LABELS[c]) for c in CHANNELS]),
                          default="phone", validators=[DataRequired()])
    priority = RadioField(_l("Priority"),
                          choices=opts([(p, PRIORITY_LABELS[p]) for p in PRIORITIES]),
                          default="normal", validators=[DataRequired()])
    technician_id, day, start, end = visit_fields(_l("Visit date"))


class ScheduleForm(VisitForm):
    """Assign, reassign, unassign or reschedule: one form, one click."""

    technician_id, day, start, end = visit_fields(_l("Date"))
    confirm_overlap = HiddenField()
    next = HiddenField()


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason for cancelling"), validators=[
        DataRequired(_l("Give the reason for cancelling.")), Length(max=2000)])
    # A job under way is cancelled only deliberately (the service refuses it otherwise).
    override = BooleanField(_l("The technician has been told: cancel although the job is under way"))
    next = HiddenField()


class ResendSurveyForm(FlaskForm):
    """Sends the customer a new survey link (CSRF only)."""


class ContactForm(FlaskForm):
    outcome = RadioField(_l("Outcome"),
                         choices=opts([(o, OUTCOME_LABELS[o]) for o in CONTACT_OUTCOMES]),
                         validators=[InputRequired(_l("Choose how the call went."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ResolveConflictForm(FlaskForm):
    resolution = StringField(_l("Decision"), validators=[
        DataRequired(_l("Write down the decision.")), Length(max=2000)])


class JobSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Reference, phone or name"), validators=[Optional(), Length(max=120)])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    technician = SelectField(_l("Technician"), validators=[Optional()], validate_choice=False)
    date_field = SelectField(_l("Date of"), choices=opts([("created", _l("intake")),
                                                     ("scheduled", _l("visit"))]),
                             default="created", validate_choice=False)
    date_from = DayField(_l("From"), validators=[Optional()])
    date_to = DayField(_l("To"), validators=[Optional()])
    needs_review = BooleanField(_l("Late evidence only"))


class ComplaintSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Reference, phone or name"), validators=[Optional(), Length(max=120)])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    severity = SelectField(_l("Class"), validators=[Optional()], validate_choice=False)
    date_from = DayField(_l("From"), validators=[Optional()])
    date_to = DayField(_l("To"), validators=[Optional()])


class ComplaintForm(FlaskForm):
    """A complaint record (seed-rules §5): time, complainant, target, content, evidence."""

    name = StringField(_l("Complainant"), validators=[
        DataRequired(_l("Enter the complainant's name.")), Length(max=120)])
    phone = StringField(_l("Contact phone"), validators=[
        DataRequired(_l("Enter the complainant's phone number.")), Length(max=32),
        valid_phone])
    job_ref = StringField(_l("Job reference (if about a job)"),
                          validators=[Optional(), Length(max=32)])
    about = RadioField(_l("About"),
                       choices=opts([(a, ABOUT_LABELS[a]) for a in complaint_rules.ABOUT]),
                       validators=[InputRequired(_l("Choose what the complaint is about."))])
    about_technician_id = SelectField(_l("Which technician"), coerce=optional_int,
                                      validate_choice=False, validators=[Optional()])
    severity = RadioField(_l("Class"), choices=opts([(s, SEVERITY_LABELS[s])
                                                     for s in complaint_rules.SEVERITIES]),
                          validators=[InputRequired(_l("Classify the complaint."))])
    content = TextAreaField(_l("What the customer says"), validators=[
        DataRequired(_l("Write what the complaint is about.")), Length(max=4000)])
    evidence = FileField(_l("Evidence photo (optional)"), validators=[
        FileAllowed(["jpg", "jpeg", "png", "webp"], _l("A JPEG, PNG or WebP image."))])


class ComplaintMoveForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    supervisor_id = SelectField(_l("Supervisor"), coerce=optional_int, validate_choice=False,
                                validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    customer_satisfied = BooleanField(_l("The customer confirmed they are satisfied"))


class ComplaintContactForm(FlaskForm):
    outcome = RadioField(_l("Outcome"),
                         choices=opts([(o, OUTCOME_LABELS[o]) for o in CONTACT_OUTCOMES]),
                         validators=[InputRequired(_l("Choose how the call went."))])
    satisfied = RadioField(_l("Is the customer satisfied?"),
                           choices=opts([("", _l("Not asked")), ("yes", _l("Satisfied")),
                                    ("no", _l("Not satisfied"))]), default="",
                           validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ComplaintJobForm(VisitForm):
    type = RadioField(_l("Visit type"),
                      choices=opts([(t, labels.JOB_TYPE[t]) for t in FOLLOW_UP_TYPES]),
                      default="inspection", validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[
        DataRequired(_l("Enter the address of the visit.")), Length(max=500)])
    product_model = StringField(_l("Product model"), validators=[Optional(), Length(max=200)])
    problem = TextAreaField(_l("What to do"), validators=[
        DataRequired(_l("Describe the problem.")), Length(max=4000)])
    technician_id, day, start, end = visit_fields(_l("Visit date"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


LIMIT_NAMES = [("first_contact", _l("First contact with the customer")),
               ("response", _l("Response: a technician dispatched")),
               ("resolution.repair", _l("Resolution of a repair")),
               ("resolution.delivery", _l("Resolution of a delivery problem")),
               ("resolution.installation", _l("Resolution of an installation")),
               ("resolution.inspection", _l("Resolution of an inspection")),
               ("complaint_escalation", _l("Major complaint reported to a supervisor")),
               ("complaint_coordination", _l("Complaint coordinated with the departments"))]


class SettingsForm(FlaskForm):
    working_weekdays = MultiCheckboxField(
        _l("Working days"), coerce=int, choices=opts(list(enumerate(WEEKDAY_LABELS))),
        validators=[DataRequired(_l("Choose at least one working day."))])
    day_start = TimeField(_l("Working hours from"), validators=[InputRequired()])
    day_end = TimeField(_l("Working hours to"), validators=[InputRequired()])
    holidays = TextAreaField(_l("Holidays (one date a line, YYYY-MM-DD, or a range "
                                "YYYY-MM-DD..YYYY-MM-DD)"),
                             validators=[Optional(), Length(max=20000)])
    warn_percent = IntegerField(_l("Turn amber when less than this percentage of the time is left"),
                                validators=[InputRequired(), NumberRange(1, 99)])
    offline_after_minutes = IntegerField(
        _l("A phone is offline for long after this many working minutes without a sync"),
        validators=[InputRequired(), NumberRange(5, 1440)])
    return_visit_days = IntegerField(
        _l("Return visit (回访) this many days after approval"),
        validators=[Optional(), NumberRange(1, 60)])


def _add_limit_fields():
    for key, label in LIMIT_NAMES:
        name = key.replace(".", "__")
        setattr(SettingsForm, f"{name}__amount", IntegerField(
            label, validators=[InputRequired(), NumberRange(1, 100000)]))
        setattr(SettingsForm, f"{name}__unit", SelectField(
            label, choices=opts([(u, UNIT_LABELS[u]) for u in sla_rules.UNITS]),
            validators=[DataRequired()]))


_add_limit_fields()
