"""Return visits (回访) and the customer survey.

- `create_due(ctx)` (the scheduler runs it): every job approved at least `return_visit_days`
  days ago (a desk setting, 3 by default) gets exactly one ReturnVisit. `return_visits.job_id`
  is unique, and each insert runs in its own savepoint, so two schedulers racing create one
  visit and the loser skips it. Jobs approved more than `LOOKBACK` before that moment are left
  alone (turning the feature on must not call a year of old customers). Each new visit gets a
  single-use survey link, sent to the customer through the notification outbox.
- `record_result(ctx, actor, visit_id, ...)`: the office records the phone call.
- `answer_survey(ctx, token, ...)`: the customer answers at /survey/<token>, no login.

Both answers go through `_answer`: a conditional UPDATE (`status = 'due'`) claims the visit,
so a second answer, from either channel, is refused (`return_visit_answered`, 409) and stores
nothing. Then the follow-up rule:

- a score of 3 or less (of 5) is "not satisfied" and opens a general complaint about the
  technician (about the service when the job had none). Why 3: the KPI counts a customer as
  satisfied at 4 or 5 (the usual top-two-box reading of a 5-point scale), and the business's
  target is "satisfaction at least 90 %" (seed-rules.md 8.3); a 3 is a customer the target
  counts as not satisfied, so the office follows it up ("keep coordinating until the customer
  is satisfied", seed-rules.md 6.5);
- open issues ("still a problem?") open an urgent follow-up repair job for the same customer
  and product, linked to the visit (and to the complaint when there is one). It counts as a
  repeat visit against the original job's first-time fix (fieldapp/core/kpis.py).

The dispatchers are notified of each follow-up. Survey tokens: `HMAC(SECRET_KEY, salt)`,
stored only as SHA-256, valid `SURVEY_VALID` after the visit is created; the office can read
the link (`survey_url`) while it is usable. Nothing here commits.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.complaints import service as complaint_service
from fieldapp.core.errors import DomainError, NotFound
from fieldapp.core.roles import DISPATCHER, OFFICE_ROLES
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Job
from fieldapp.jobs.service import require_role
from fieldapp.notifications import service as notifications
from fieldapp.settings import service as settings_service
from fieldapp.visits.models import ReturnVisit

DUE, DONE = "due", "done"
STATUSES = (DUE, DONE)
PHONE, SURVEY = "phone", "survey"
SCORES = (1, 2, 3, 4, 5)
LOW_SCORE = 3            # a score at or below this opens a complaint (see above)
SURVEY_VALID = timedelta(days=14)
OVERDUE_AFTER = timedelta(days=2)   # the office has two days to make the call
LOOKBACK = timedelta(days=30)
MAX_TEXT = 2000
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


# --- the survey link -----------------------------------------------------------------------

def _config(secret: str | None, base_url: str | None) -> tuple[str, str]:
    if secret is None or base_url is None:
        from flask import current_app  # why: no Flask on import

        secret = secret or current_app.config["SECRET_KEY"]
        base_url = base_url or current_app.config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL
    return secret, base_url.rstrip("/")


def make_token(secret: str, salt: str) -> str:
    digest = hmac.new(secret.encode(), b"fieldapp-survey:" + salt.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_usable(visit: ReturnVisit, now: datetime) -> bool:
    return visit.status == DUE and visit.survey_salt is not None and \
        visit.survey_used_at is None and visit.survey_expires_at is not None and \
        now < visit.survey_expires_at


def survey_url(visit: ReturnVisit, now: datetime, secret: str | None = None,
               base_url: str | None = None) -> str | None:
    """The customer's link while it can still be answered, else None."""
    if not survey_usable(visit, now):
        return None
    secret, base_url = _config(secret, base_url)
    return f"{base_url}/survey/{make_token(secret, visit.survey_salt)}"


def overdue(visit: ReturnVisit, now: datetime) -> bool:
    return visit.status == DUE and now > visit.due_at + OVERDUE_AFTER


# --- creating the visits -------------------------------------------------------------------

def return_visit_days(session: Session, timezone: str) -> int:
    return settings_service.load(session, timezone)[1].return_visit_days


def create_due(ctx: Ctx, secret: str | None = None, base_url: str | None = None
               ) -> list[ReturnVisit]:
    """One return visit for every job approved at least N days ago that has none yet."""
    now = ctx.now()
    days = return_visit_days(ctx.session, ctx.policy.timezone)
    cutoff = now - timedelta(days=days)
    secret, base_url = _config(secret, base_url)
    jobs = ctx.session.execute(
        select(Job).where(Job.status == "approved", Job.approved_at.is_not(None),
                          Job.approved_at <= cutoff, Job.approved_at > cutoff - LOOKBACK,
                          ~exists().where(ReturnVisit.job_id == Job.id))
        .order_by(Job.approved_at, Job.id)).scalars().all()
    created = []
    for job in jobs:
        salt = secrets.token_hex(16)
        visit = ReturnVisit(job_id=job.id, technician_id=job.technician_id,
                            due_at=job.approved_at + timedelta(days=days), status=DUE,
                            survey_salt=salt, survey_token_hash=token_hash(
                                make_token(secret, salt)),
                            survey_expires_at=now + SURVEY_VALID, created_at=now)
        try:
            with ctx.session.begin_nested():
                ctx.session.add(visit)
                ctx.session.flush()
        except IntegrityError:  # another process made it first: it stays the only one
            continue
        job_service.record_event(ctx, None, job, "return_visit_created", {
            "return_visit_id": visit.id, "due_at": job_service.iso(visit.due_at)})
        _send_survey(ctx, visit, job, f"{base_url}/survey/{make_token(secret, salt)}")
        created.append(visit)
    return created


def _send_survey(ctx: Ctx, visit: ReturnVisit, job: Job, url: str, key_suffix: str = ""
                 ) -> None:
    """The survey link to the customer (SMS to the phone, e-mail when known), in Chinese."""
    customer = job.customer
    if not (customer.email or customer.phone):
        return
    from flask_babel import lazy_gettext as _l  # why: no Flask on import


    notifications.send_to_customer(
        ctx, "return_visit_survey", email=customer.email, phone=customer.phone,
        subject=_l("Return visit %(ref)s: how was our service?", ref=job.ref),
        body=_l("Dear %(name)s, thank you for choosing us. Please rate our visit "
                "(%(ref)s, %(product)s): %(url)s The link works once and is valid for "
                "14 days.", name=customer.name, ref=job.ref, product=job.product_model,
                url=url),
        key=f"return_visit_survey:{visit.id}" + (f":{key_suffix}" if key_suffix else ""),
        job_id=job.id)
    visit.survey_sent_at = ctx.now()


def resend_survey(ctx: Ctx, actor: Actor, visit_id, secret: str | None = None,
                  base_url: str | None = None) -> ReturnVisit:
    """A fresh survey link for an unanswered visit (the customer lost it, or it expired):
    a new token, so the old link stops working, valid `SURVEY_VALID` from now, sent again."""
    visit = get_visit(ctx, actor, visit_id)
    if visit.status != DUE:
        raise DomainError("return_visit_answered", {"id": visit.id}, status=409)
    job = visit.job
    if not (job.customer.email or job.customer.phone):
        raise DomainError("no_customer_contact", {"id": visit.id}, status=409)
    secret, base_url = _config(secret, base_url)
    salt = secrets.token_hex(16)
    token = make_token(secret, salt)
    visit.survey_salt, visit.survey_token_hash = salt, token_hash(token)
    visit.survey_expires_at = ctx.now() + SURVEY_VALID
    visit.survey_used_at = None
    job_service.record_event(ctx, actor, job, "return_visit_survey_resent", {
        "return_visit_id": visit.id, "expires_at": job_service.iso(visit.survey_expires_at)})
    _send_survey(ctx, visit, job, f"{base_url}/survey/{token}", key_suffix=salt[:12])
    ctx.session.flush()
    return visit


# --- answering -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _RuleUser:
    """The follow-up rule acting for the office: it opens complaints and jobs "by itself"
    (no user id on those records; the answer's own event names who recorded it)."""

    id: None = None
    role: str = DISPATCHER
    display_name: str = "return visit"


RULE_ACTOR = Actor(user=_RuleUser())  # type: ignore[arg-type]


def _clean(value, field: str) -> str | None:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise DomainError("validation_error", {field: ["Not a string."]})
    if len(text) > MAX_TEXT:
        raise DomainError("validation_error", {field: [f"At most {MAX_TEXT} characters."]})
    return text or None


def _check_score(score) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise DomainError("bad_score", {"score": score, "allowed": list(SCORES)})
    return score


def get_visit(ctx: Ctx, actor: Actor, visit_id) -> ReturnVisit:
    require_role(actor, OFFICE_ROLES)
    visit = ctx.session.get(ReturnVisit, visit_id) if isinstance(visit_id, int) else None
    if visit is None:
        raise NotFound("return_visit")
    return visit


def record_result(ctx: Ctx, actor: Actor, visit_id: int, score, comment=None, issues=None
                  ) -> ReturnVisit:
    """The office's phone call: a score of 1-5, a comment and any open issues."""
    visit = get_visit(ctx, actor, visit_id)
    return _answer(ctx, actor, visit, PHONE, score, comment, issues)


def visit_for_token(session: Session, token: str) -> ReturnVisit | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return session.execute(select(ReturnVisit).where(
        ReturnVisit.survey_token_hash == token_hash(token))).scalar_one_or_none()


def survey_state(visit: ReturnVisit | None, now: datetime) -> str:
    """`open`, `answered`, `expired` or `unknown`: what /survey/<token> shows."""
    if visit is None or visit.survey_salt is None:
        return "unknown"
    if visit.status != DUE or visit.survey_used_at is not None:
        return "answered"
    if visit.survey_expires_at is None or now >= visit.survey_expires_at:
        return "expired"
    return "open"


def answer_survey(ctx: Ctx, token: str, score, comment=None, issues=None) -> ReturnVisit:
    """The customer's answer on /survey/<token>: once, before the link expires."""
    visit = visit_for_token(ctx.session, token)
    state = survey_state(visit, ctx.now())
    if state == "unknown":
        raise NotFound("survey")
    if state == "expired":
        raise DomainError("survey_expired", {}, status=410)
    if state == "answered":
        raise DomainError("return_visit_answered", {"id": visit.id}, status=409)
    return _answer(ctx, None, visit, SURVEY, score, comment, issues)


def _answer(ctx: Ctx, actor: Actor | None, visit: ReturnVisit, channel: str, score, comment,
            issues) -> ReturnVisit:
    score = _check_score(score)
    comment = _clean(comment, "comment")
    issues = _clean(issues, "issues")
    now = ctx.now()
    # The claim: only one answer turns `due` into `done`, whichever process gets there first.
    claimed = ctx.session.execute(
        sql_update(ReturnVisit).where(and_(ReturnVisit.id == visit.id,
                                           ReturnVisit.status == DUE))
        .values(status=DONE, channel=channel, score=score, comment=comment, issues=issues,
                recorded_by_id=actor.id if actor else None, answered_at=now,
                survey_used_at=now if channel == SURVEY else ReturnVisit.survey_used_at)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise DomainError("return_visit_answered", {"id": visit.id}, status=409)
    ctx.session.refresh(visit)
    job = visit.job
    job_service.record_event(ctx, actor, job, "return_visit_answered", {
        "return_visit_id": visit.id, "channel": channel, "score": score,
        "comment": comment, "issues": issues})
    _follow_up(ctx, RULE_ACTOR, visit, job)
    return visit


def _follow_up(ctx: Ctx, actor: Actor, visit: ReturnVisit, job: Job) -> None:
    opened = []
    if visit.score <= LOW_SCORE:
        # The customer's own words only, in no language of ours (issue 17): where it came
        # from is the `from_return_visit` event, worded in each reader's language.
        words = f"{job.ref} · {visit.score}/5" + (f"\n{visit.comment}" if visit.comment else "")
        complaint = complaint_service.intake(ctx, actor, {
            "job_id": job.id, "about": "technician" if job.technician_id else "service",
            "severity": "general", "content": words})
        complaint_service.record_event(ctx, actor, complaint, "from_return_visit", {
            "return_visit_id": visit.id, "score": visit.score, "channel": visit.channel})
        visit.complaint_id = complaint.id
        opened.append(("complaint", complaint.ref))
    if visit.issues:
        problem = visit.issues  # the customer's words; the job's event says where from
        if visit.complaint_id is not None:
            followup = complaint_service.spawn_job(ctx, actor, visit.complaint, {
                "type": "repair", "problem": problem, "product_model": job.product_model,
                "address": job.address, "priority": "urgent"})
        else:
            followup = job_service.intake(ctx, actor, {
                "type": "repair", "customer": {"name": job.contact_name,
                                               "phone": job.contact_phone,
                                               "address": job.address},
                "product_model": job.product_model, "problem": problem, "channel": "phone",
                "priority": "urgent"})
            ctx.session.flush()
        job_service.record_event(ctx, None, followup, "from_return_visit", {
            "return_visit_id": visit.id, "job_id": job.id, "ref": job.ref})
        visit.followup_job_id = followup.id
        opened.append(("job", followup.ref))
    if opened:
        ctx.session.flush()
        job_service.record_event(ctx, None, job, "return_visit_follow_up", {
            "return_visit_id": visit.id, "complaint_id": visit.complaint_id,
            "followup_job_id": visit.followup_job_id})
        _notify_dispatchers(ctx, visit, job, opened)


def _notify_dispatchers(ctx: Ctx, visit: ReturnVisit, job: Job, opened) -> None:
    from flask_babel import lazy_gettext as _l  # why: no Flask on import


    what = ", ".join(ref for _kind, ref in opened)
    notifications.notify(
        ctx, "return_visit_follow_up", [DISPATCHER],
        subject=_l("Return visit %(ref)s: %(score)s/5, opened %(opened)s", ref=job.ref,
                   score=visit.score, opened=what),
        body=_l("The customer of %(ref)s (%(product)s) gave %(score)s/5. Comment: %(comment)s "
                "Still a problem: %(issues)s Opened: %(opened)s", ref=job.ref,
                product=job.product_model, score=visit.score, comment=visit.comment or "—",
                issues=visit.issues or "—", opened=what),
        job_id=visit.followup_job_id or job.id, complaint_id=visit.complaint_id,
        key=f"return_visit_follow_up:{visit.id}")


# --- reading -------------------------------------------------------------------------------

def for_job(session: Session, job_id: str) -> ReturnVisit | None:
    return session.execute(select(ReturnVisit).where(ReturnVisit.job_id == job_id)
                           ).scalar_one_or_none()


def list_visits(session: Session, job_id: str | None = None, status: str | None = None,
                limit: int = 200) -> list[ReturnVisit]:
    stmt = select(ReturnVisit)
    if job_id:
        stmt = stmt.where(ReturnVisit.job_id == job_id)
    if status:
        stmt = stmt.where(ReturnVisit.status == status)
    order = (ReturnVisit.due_at, ReturnVisit.id) if status == DUE else \
        (ReturnVisit.due_at.desc(), ReturnVisit.id.desc())
    return session.execute(stmt.order_by(*order).limit(limit)).scalars().all()


def queue(session: Session) -> list[ReturnVisit]:
    """Unanswered visits, oldest due first (what the office calls today)."""
    return list_visits(session, status=DUE, limit=500)


def recent_answers(session: Session, limit: int = 20) -> list[ReturnVisit]:
    return session.execute(select(ReturnVisit).where(ReturnVisit.status == DONE)
                           .order_by(ReturnVisit.answered_at.desc(), ReturnVisit.id.desc())
                           .limit(limit)).scalars().all()


def as_dict(visit: ReturnVisit, now: datetime, secret: str | None = None,
            base_url: str | None = None) -> dict:
    iso = job_service.iso
    job = visit.job
    return {
        "id": visit.id, "job_id": visit.job_id, "job_ref": job.ref,
        "technician_id": visit.technician_id, "due_at": iso(visit.due_at),
        "status": visit.status, "overdue": overdue(visit, now), "channel": visit.channel,
        "score": visit.score, "comment": visit.comment, "issues": visit.issues,
        "recorded_by_id": visit.recorded_by_id, "answered_at": iso(visit.answered_at),
        "survey_url": survey_url(visit, now, secret, base_url),
        "survey_expires_at": iso(visit.survey_expires_at),
        "survey_sent_at": iso(visit.survey_sent_at),
        "complaint_id": visit.complaint_id,
        "complaint_ref": visit.complaint.ref if visit.complaint else None,
        "followup_job_id": visit.followup_job_id,
        "followup_job_ref": visit.followup_job.ref if visit.followup_job else None,
        "created_at": iso(visit.created_at),
    }
