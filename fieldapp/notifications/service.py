"""Notifications through one outbox (issue 7).

Two public entry points; nothing here commits (the caller commits once, so a notification is
stored with the change that caused it, or not at all):

- `notify(ctx, kind, recipients, ...)` tells office users / technicians: one in-app
  `Notification` per recipient (GET /api/v1/notifications, the bell in /dispatch/ and
  /review/), plus an outbox `Delivery` per extra channel asked for (`email` to the user's
  address, `webhook` to the SMS/chat gateway with the user's phone).
- `send_to_customer(ctx, kind, ...)` writes to a customer: e-mail (with attachments rendered
  at delivery time, e.g. the service report PDF) and/or SMS through the webhook.

Exactly once: every notification and delivery carries a key; (user, key) and the delivery key
are unique in the database and inserted with ON CONFLICT DO NOTHING, so the same event
enqueued twice (two scheduler processes, a retried request) is stored once.

Languages: pass `subject`/`body` as lazy strings (`flask_babel.lazy_gettext` / `_l` with its
parameters, e.g. `_l("Job %(ref)s is late", ref=job.ref)`); each recipient's copy is rendered
under `force_locale(user.locale or zh_CN)`. A plain `str` is used as it is. Rendering needs
an app context (requests, the CLI and the scheduler all have one).

Delivery is `deliver_due(app, now)` (the scheduler's `deliveries` task): claim a row
atomically (pending -> sending), send, then `sent` (or `logged` when no mail server is
configured) or back to `pending` with backoff; after MAX_ATTEMPTS `failed`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update

from fieldapp.accounts.context import Ctx
from fieldapp.accounts.models import User
from fieldapp.core.clock import ensure_aware, iso
from fieldapp.core.roles import ROLES
from fieldapp.db import begin_write, insert_once
from fieldapp.jobs.models import Job
from fieldapp.notifications import mailer
from fieldapp.notifications.models import Delivery, Notification

log = logging.getLogger("fieldapp.notifications")

IN_APP, EMAIL, WEBHOOK = "in_app", "email", "webhook"
CHANNELS = (IN_APP, EMAIL, WEBHOOK)
PENDING, SENDING, SENT, LOGGED, FAILED = "pending", "sending", "sent", "logged", "failed"
DELIVERY_STATUSES = (PENDING, SENDING, SENT, LOGGED, FAILED)
MAX_ATTEMPTS = 5
# Seconds to wait after the n-th failed attempt (the last one repeats).
BACKOFF = (60, 300, 900, 3600)
# A claim older than this is taken to be from a process that died while sending.
STALE_CLAIM = timedelta(minutes=10)
DEFAULT_LOCALE = "zh_CN"
SIGNATURE_HEADER = "X-Fieldapp-Signature"


# --- the public entry points ---------------------------------------------------------------

def notify(ctx: Ctx, kind: str, recipients: Iterable[User | int | str], *, subject, body,
           job_id: str | None = None, complaint_id: str | None = None,
           key: str | None = None, channels: Iterable[str] | None = None
           ) -> list[Notification]:
    """Notify each recipient once about one event.

    - `kind`: a short machine name (`sla_first_contact`, `complaint_escalated`,
      `job_reminder`, `return_visit_due`, ...), shown to clients as is.
    - `recipients`: User objects, user ids, or role names (`"dispatcher"`, `"supervisor"`,
      ... = every active user with that role); inactive users are skipped, duplicates merged.
    - `subject`, `body`: lazy strings (`_l(msgid, **params)`) rendered per recipient in
      their own language, or plain strings.
    - `key`: names the event (e.g. `f"sla:{clock.id}"`). A second call with the same key
      notifies nobody who already got it. Without a key every call is a new event.
    - `channels`: besides the in-app notification (always), `"email"` (to user.email) and/or
      `"webhook"` (the SMS/chat gateway, with user.phone) go through the outbox. None: the
      deployment's choice for staff (config NOTIFY_CHANNELS, env FIELDAPP_NOTIFY_CHANNELS,
      e.g. "email,webhook"; in-app only by default).

    Returns the notifications created by this call (those already there are not returned).
    Does not commit."""
    now = ctx.now()
    key = key or f"{kind}:{uuid.uuid4()}"
    if channels is None:
        channels = staff_channels()
    extra = [c for c in channels if c != IN_APP]
    for channel in extra:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
    created: list[Notification] = []
    for user in _resolve(ctx, recipients):
        locale = user.locale or DEFAULT_LOCALE
        text_subject, text_body = _render(subject, locale), _render(body, locale)
        values = dict(user_id=user.id, kind=kind, key=key[:200],
                      subject=text_subject[:500], body=text_body, job_id=job_id,
                      complaint_id=complaint_id, created_at=now)
        new_id = insert_once(ctx.session, Notification, values,
                              ("user_id", "key"), Notification.id)
        if new_id is None:
            continue
        notification = ctx.session.get(Notification, new_id)
        created.append(notification)
        for channel in extra:
            target = user.email if channel == EMAIL else (user.phone or "")
            if channel == EMAIL and not target:
                continue
            _enqueue(ctx, f"n:{user.id}:{channel}:{key}", kind, channel, target or "-", {
                "kind": kind, "subject": text_subject, "body": text_body,
                "user_id": user.id, "username": user.username, "phone": user.phone,
                "locale": locale, "job_id": job_id, "complaint_id": complaint_id,
            }, job_id=job_id, notification_id=new_id)
    return created


def send_to_customer(ctx: Ctx, kind: str, *, email: str | None = None,
                     phone: str | None = None, subject, body, key: str,
                     attachments: list[dict] | None = None, locale: str = DEFAULT_LOCALE,
                     job_id: str | None = None) -> list[Delivery]:
    """Write to a customer through the outbox: an e-mail to `email` and/or an SMS (the
    webhook, `{"kind", "to", "text", ...}`) to `phone`, each at most once per `key`.

    - `subject`, `body`: lazy strings or plain text, rendered in `locale` (zh_CN by default).
    - `attachments`: for e-mail, rendered when the message is sent, so the row stays small:
      `{"type": "report_pdf", "job_id": ..., "lang": "zh"|"en"}` (the service report) or
      `{"type": "bytes", "filename", "content_type", "data_b64"}`.
    Returns the deliveries created by this call. Does not commit."""
    text_subject, text_body = _render(subject, locale), _render(body, locale)
    created = []
    if email:
        row = _enqueue(ctx, f"c:email:{key}", kind, EMAIL, email, {
            "kind": kind, "subject": text_subject, "body": text_body, "locale": locale,
            "attachments": attachments or [], "job_id": job_id}, job_id=job_id)
        if row is not None:
            created.append(row)
    if phone:
        row = _enqueue(ctx, f"c:sms:{key}", kind, WEBHOOK, phone, {
            "kind": kind, "to": phone, "subject": text_subject, "text": text_body,
            "body": text_body, "locale": locale, "job_id": job_id}, job_id=job_id)
        if row is not None:
            created.append(row)
    return created


def staff_channels() -> tuple[str, ...]:
    """The extra channels staff notices go out on (config NOTIFY_CHANNELS)."""
    from flask import current_app, has_app_context  # why: no Flask on import

    if not has_app_context():
        return ()
    value = current_app.config.get("NOTIFY_CHANNELS") or ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    return tuple(v for v in value if v in (EMAIL, WEBHOOK))


# --- reading and marking -------------------------------------------------------------------

def for_user(session, user_id: int, *, unread_only: bool = False, limit: int = 50,
             before_id: int | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def unread_count(session, user_id: int) -> int:
    return session.execute(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def mark_read(ctx: Ctx, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of this user read. Another
    user's notification is never touched (returns 0 for it)."""
    stmt = update(Notification).where(Notification.user_id == user_id,
                                      Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return ctx.session.execute(stmt.values(read_at=ctx.now())).rowcount


def public(notification: Notification) -> dict:
    return {"id": notification.id, "kind": notification.kind,
            "created_at": iso(notification.created_at),
            "read": notification.read_at is not None, "subject": notification.subject,
            "body": notification.body, "job_id": notification.job_id,
            "complaint_id": notification.complaint_id}


def deliveries(session, status: str | None = None, limit: int = 200) -> list[Delivery]:
    stmt = select(Delivery)
    if status:
        stmt = stmt.where(Delivery.status == status)
    return list(session.execute(stmt.order_by(Delivery.id.desc()).limit(limit)).scalars())


def retry(ctx: Ctx, delivery_id: int) -> bool:
    """Put a failed delivery back in the queue, due now, with a fresh set of attempts."""
    return ctx.session.execute(update(Delivery).where(
        Delivery.id == delivery_id, Delivery.status == FAILED).values(
        status=PENDING, attempts=0, next_attempt_at=ctx.now(), updated_at=ctx.now(),
        claimed_by=None, claimed_at=None)).rowcount == 1


# --- delivery -------------------------------------------------------------------------------

def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_due(app, now: datetime, *, holder: str | None = None, limit: int = 100) -> dict:
    """Send what is due at `now`: each row claimed atomically by one process, sent, marked.
    Returns counts by outcome. Commits after each row (its own transactions)."""
    from fieldapp.extensions import db  # why: no Flask on import

    session = db.session
    holder = holder or holder_name()
    now = ensure_aware(now)
    counts = {SENT: 0, LOGGED: 0, "retry": 0, FAILED: 0}
    # Every write below takes the write lock first (SQLite: BEGIN IMMEDIATE; a transaction
    # that began by reading could not write once another process has committed).
    begin_write(session)
    # A process that died while sending left its claim behind: release it.
    session.execute(update(Delivery).where(
        Delivery.status == SENDING, Delivery.claimed_at < now - STALE_CLAIM).values(
        status=PENDING, claimed_by=None, updated_at=now))
    session.commit()
    due_ids = list(session.execute(select(Delivery.id).where(
        Delivery.status == PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)).scalars())
    session.commit()
    for delivery_id in due_ids:
        begin_write(session)
        claimed = session.execute(update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == PENDING,
            Delivery.next_attempt_at <= now).values(
            status=SENDING, claimed_by=holder, claimed_at=now,
            attempts=Delivery.attempts + 1, updated_at=now)).rowcount
        session.commit()
        if claimed != 1:
            continue  # another process has it
        delivery = session.get(Delivery, delivery_id)
        try:
            outcome = _send(app, delivery)
        except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
            session.rollback()
            begin_write(session)
            delivery = session.get(Delivery, delivery_id)
            message = f"{type(error).__name__}: {error}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = FAILED
                counts[FAILED] += 1
                log.warning("delivery %s (%s to %s) failed for good: %s", delivery.id,
                            delivery.channel, delivery.target, message)
            else:
                delivery.status = PENDING
                wait = BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                counts["retry"] += 1
            delivery.last_error = message
        else:
            session.commit()  # end the read (rendering, say) before taking the write lock
            begin_write(session)
            delivery = session.get(Delivery, delivery_id)
            delivery.status = outcome
            delivery.sent_at = now
            delivery.last_error = None
            counts[outcome] += 1
        delivery.claimed_by = None
        delivery.updated_at = now
        session.commit()
    return counts


def _send(app, delivery: Delivery) -> str:
    if delivery.channel == EMAIL:
        message = build_email(app, delivery)
        return mailer.send(message, app.config)
    if delivery.channel == WEBHOOK:
        return post_webhook(app, delivery)
    raise ValueError(f"unknown channel {delivery.channel!r}")


def build_email(app, delivery: Delivery):
    payload = delivery.payload or {}
    message = EmailMessage()
    message["From"] = app.config.get("MAIL_SENDER") or "service@fieldapp.invalid"
    message["To"] = delivery.target
    message["Subject"] = payload.get("subject") or ""
    message["Message-ID"] = f"<delivery-{delivery.id}-{delivery.key[-40:].replace(' ', '')}" \
                            f"@fieldapp>".replace(":", ".")
    message.set_content(payload.get("body") or "")
    for attachment in payload.get("attachments") or []:
        data, maintype, subtype, filename = _attachment(attachment)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _attachment(attachment: dict) -> tuple[bytes, str, str, str]:
    kind = attachment.get("type")
    if kind == "report_pdf":
        from flask import current_app  # why: no Flask on import

        from fieldapp.documents.service_report import render  # why: no Flask on import
        from fieldapp.extensions import db  # why: no Flask on import

        job = db.session.get(Job, attachment["job_id"])
        if job is None:
            raise LookupError(f"job {attachment['job_id']} is gone")
        # The report links its seal check by URL: outside a request, build it on the public
        # address (PUBLIC_BASE_URL, else the host the approval came in on).
        base = current_app.config.get("PUBLIC_BASE_URL") or attachment.get("base_url") \
            or "http://localhost/"
        with current_app.test_request_context("/", base_url=base):
            pdf = render(job, attachment.get("lang") or "zh")
        return pdf, "application", "pdf", \
            attachment.get("filename") or f"service-record-{job.ref}.pdf"
    if kind == "bytes":
        maintype, _, subtype = (attachment.get("content_type")
                                or "application/octet-stream").partition("/")
        return base64.b64decode(attachment["data_b64"]), maintype, subtype, \
            attachment.get("filename") or "attachment"
    raise ValueError(f"unknown attachment type {kind!r}")


def webhook_config(app) -> tuple[str | None, str | None]:
    url = app.config.get("WEBHOOK_URL") or os.environ.get("FIELDAPP_WEBHOOK_URL")
    secret = app.config.get("WEBHOOK_SECRET") or os.environ.get("FIELDAPP_WEBHOOK_SECRET")
    return url, secret or None


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header)


def webhook_body(delivery: Delivery) -> bytes:
    payload = {"id": delivery.key, "delivery_id": delivery.id, "kind": delivery.kind,
               "to": delivery.target, **(delivery.payload or {})}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def post_webhook(app, delivery: Delivery) -> str:
    """POST the JSON body, signed; a 2xx answer is `sent`, anything else raises. Without a
    configured URL the message is only logged (`logged`)."""
    url, secret = webhook_config(app)
    body = webhook_body(delivery)
    if not url:
        log.info("webhook not configured (FIELDAPP_WEBHOOK_URL unset); would post %s",
                 body.decode("utf-8"))
        return LOGGED
    if not secret:
        # A signature with an empty key proves nothing: the receiver could not tell us from
        # anyone else. Fail (retried, then shown on /dispatch/deliveries) until it is set.
        raise RuntimeError("FIELDAPP_WEBHOOK_SECRET is not set: the webhook message was not "
                           "sent unsigned")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(secret, body),
        "X-Fieldapp-Delivery": delivery.key,
    })
    try:
        with urllib.request.urlopen(request, timeout=float(app.config.get(
                "WEBHOOK_TIMEOUT", 10))) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"webhook answered HTTP {error.code}") from None
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered HTTP {status}")
    return SENT


# --- helpers --------------------------------------------------------------------------------

def _resolve(ctx: Ctx, recipients) -> list[User]:
    users: dict[int, User] = {}
    for recipient in recipients or ():
        if isinstance(recipient, User):
            found = [recipient]
        elif isinstance(recipient, str) and recipient in ROLES:
            found = ctx.session.execute(select(User).where(
                User.role == recipient, User.active.is_(True)).order_by(User.id)).scalars()
        elif isinstance(recipient, int):
            user = ctx.session.get(User, recipient)
            found = [user] if user is not None else []
        else:
            raise ValueError(f"unknown recipient {recipient!r}")
        for user in found:
            if user.active:
                users.setdefault(user.id, user)
    return list(users.values())


def _render(text, locale: str) -> str:
    if isinstance(text, str):
        return text
    try:
        from flask import has_app_context  # why: no Flask on import
        from flask_babel import force_locale  # why: no Flask on import

        if has_app_context():
            with force_locale(locale):
                return str(text)
    except ImportError:  # pragma: no cover
        pass
    return str(text)


def _enqueue(ctx: Ctx, key: str, kind: str, channel: str, target: str, payload: dict, *,
             job_id: str | None = None, notification_id: int | None = None
             ) -> Delivery | None:
    now = ctx.now()
    new_id = insert_once(ctx.session, Delivery, dict(
        key=key[:240], kind=kind, channel=channel, target=target[:500], payload=payload,
        status=PENDING, attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
        job_id=job_id, notification_id=notification_id), ("key",), Delivery.id)
    return ctx.session.get(Delivery, new_id) if new_id is not None else None
