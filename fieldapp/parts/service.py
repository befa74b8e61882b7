"""Parts requests and take-back repairs (issue 8), from the customer's home to the warehouse
and back. The rules (seed-rules §2.5, §5, §7):

- A replacement part needs after-sales approval first (§9.5); a supplementary part (补件) is
  reported with a reason (§9.6); for both, nothing is ordered before the cause is found and
  entered in 《补件和更换配件记录》 (§9.7) and nothing leaves the warehouse without a signature
  (§9.8). So both kinds wait in one queue for a supervisor's (after-sales head's) decision,
  the approval records the cause, and the warehouse release is refused unless an approval is
  on record.
- A product taken away for repair gets a receipt (收据) the customer signs; it is registered
  and a follow-up repair job is made once, when the receipt reaches the server. When the
  product comes back the receipt is collected and the customer signs the repair slip (维修单);
  a second return of the same receipt is refused.

Nothing here commits: the caller owns the transaction. Every change writes a JobEvent.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import User
from fieldapp.core import states
from fieldapp.core.errors import DomainError, Forbidden, NotFound
from fieldapp.core.roles import ADMIN, OFFICE_ROLES, REVIEW_ROLES, TECHNICIAN
from fieldapp.jobs import service as jobs
from fieldapp.jobs.counters import bump
from fieldapp.jobs.models import Job
from fieldapp.parts.models import PartsRequest, Takeback
from fieldapp.settings.models import Setting, SettingChange

PARTS_KINDS = ("replacement", "supplementary")
PARTS_STATUSES = ("pending", "approved", "refused")
DECISIONS = ("approve", "refuse")
# Why a part was needed: the causes the parts log (补件和更换配件记录) is counted by.
CAUSES = ("missing_in_delivery", "damaged_in_transit", "manufacturing_defect",
          "installation_damage", "wear", "customer_damage", "other")
TAKEBACK_STATUSES = ("out", "returned")
RECEIPT_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
MAX_PHOTOS = 10
SETTINGS_KEY = "takebacks"
DEFAULT_OVERDUE_DAYS = 7


def _jobs():
    return jobs


def _photos(ctx: Ctx, actor: Actor, shas) -> list[str]:
    jobs = _jobs()
    shas = list(dict.fromkeys(shas or []))
    if len(shas) > MAX_PHOTOS:
        raise DomainError("too_many_photos", {"max": MAX_PHOTOS})
    for sha in shas:
        jobs.require_blob(ctx, sha, actor)
    return shas


# --- on the phone: the three mutations -------------------------------------------------------

def request_part(ctx: Ctx, actor: Actor, job: Job, args: dict) -> PartsRequest:
    jobs = _jobs()
    photos = _photos(ctx, actor, args.get("photo_sha256s"))
    existing = jobs.existing_row(ctx, PartsRequest, args["request_id"], job, "request_id_taken")
    if existing is not None:
        return existing
    jobs.ensure_open_for_evidence(job)
    if args["kind"] not in PARTS_KINDS:
        raise DomainError("bad_parts_kind", {"kind": args["kind"], "allowed": PARTS_KINDS})
    if not (args.get("part_name") or "").strip():
        raise DomainError("part_name_required", {})
    if not (args.get("reason") or "").strip():
        # §9.6: a supplementary part is reported *with a reason*; a replacement too.
        raise DomainError("reason_required", {"kind": args["kind"]})
    cause = args.get("cause")
    if cause is not None and cause not in CAUSES:
        raise DomainError("bad_cause", {"cause": cause, "allowed": CAUSES})
    request = PartsRequest(id=args["request_id"], job_id=job.id,
                           part_name=args["part_name"].strip(), quantity=args["quantity"],
                           kind=args["kind"], reason=args["reason"].strip(), status="pending",
                           cause=cause, photo_sha256s=photos or None,
                           requested_by_id=actor.id, device_id=actor.device_id,
                           created_at=ctx.now())
    ctx.session.add(request)
    jobs.record_event(ctx, actor, job, "parts_request", {
        "request_id": request.id, "part_name": request.part_name,
        "quantity": request.quantity, "kind": request.kind, "reason": request.reason,
        "cause": cause, "photo_sha256s": photos})
    jobs.touch(ctx, job)
    return request


def _clean_items(items) -> list:
    clean = []
    for item in items or []:
        if isinstance(item, str) and item.strip():
            clean.append(item.strip()[:200])
        elif isinstance(item, dict) and str(item.get("name") or "").strip():
            qty = item.get("quantity", 1)
            if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= 999:
                raise DomainError("bad_items", {"item": item})
            clean.append({"name": str(item["name"]).strip()[:200], "quantity": qty})
        else:
            raise DomainError("bad_items", {"item": item})
    if not clean:
        raise DomainError("bad_items", {"items": items})
    return clean


def item_text(item) -> str:
    if isinstance(item, dict):
        qty = item.get("quantity") or 1
        return f"{item.get('name')} × {qty}" if qty != 1 else str(item.get("name"))
    return str(item)


def _free_receipt_no(ctx: Ctx, wanted: str | None, job: Job, receipt_id: str) -> str:
    """The phone's number when it is free. A number already used by another receipt (two
    phones offline on one job) keeps the customer's printed number recognisable: the
    receipt's first id characters are appended. Without a number (an API client), the job's
    ref plus the next free per-job counter."""
    def taken(no):
        return ctx.session.execute(select(Takeback.id).where(Takeback.receipt_no == no)
                                   ).first() is not None

    if wanted:
        if not taken(wanted):
            return wanted
        return f"{wanted}-{receipt_id[:4].upper()}"
    n = ctx.session.execute(select(func.count(Takeback.id))
                            .where(Takeback.job_id == job.id)).scalar() + 1
    while taken(f"{job.ref}-T{n}"):
        n += 1
    return f"{job.ref}-T{n}"


def takeback_receipt(ctx: Ctx, actor: Actor, job: Job, args: dict) -> Takeback:
    jobs = _jobs()
    signature = jobs.require_blob(ctx, args["signature_sha256"], actor)
    photos = _photos(ctx, actor, args.get("photo_sha256s"))
    existing = jobs.existing_row(ctx, Takeback, args["receipt_id"], job, "receipt_id_taken")
    if existing is not None:
        return existing  # the same receipt again: no second follow-up job
    jobs.ensure_open_for_evidence(job)
    if signature.content_type != "image/png":
        raise DomainError("signature_not_png", {"content_type": signature.content_type})
    items = _clean_items(args.get("items"))
    if not (args.get("condition") or "").strip():
        raise DomainError("condition_required", {})
    wanted = args.get("receipt_no")
    if wanted is not None and not RECEIPT_NO.match(wanted):
        raise DomainError("bad_receipt_no", {"receipt_no": wanted})
    receipt_no = _free_receipt_no(ctx, wanted, job, args["receipt_id"])
    now = ctx.now()
    takeback = Takeback(id=args["receipt_id"], job_id=job.id, items=items,
                        condition=args["condition"].strip(),
                        receipt_signature_sha256=args["signature_sha256"], status="out",
                        taken_by_id=actor.id, taken_at=now, receipt_no=receipt_no,
                        photo_sha256s=photos or None, signer_name=args.get("signer_name"))
    ctx.session.add(takeback)
    ctx.session.flush()
    followup = _create_followup(ctx, actor, job, takeback)
    takeback.followup_job_id = followup.id
    jobs.record_event(ctx, actor, job, "takeback_receipt", {
        "receipt_id": takeback.id, "receipt_no": receipt_no,
        **({"receipt_no_requested": wanted} if wanted and wanted != receipt_no else {}),
        "items": items, "condition": takeback.condition,
        "signature_sha256": takeback.receipt_signature_sha256, "photo_sha256s": photos,
        "signer_name": takeback.signer_name, "followup_job_id": followup.id,
        "followup_ref": followup.ref})
    jobs.touch(ctx, job)
    return takeback


def _create_followup(ctx: Ctx, actor: Actor, job: Job, takeback: Takeback) -> Job:
    """The repair job that brings the product back: same customer, address and product,
    unassigned (the dispatcher schedules it when the repair is done). It gets no intake SLA
    clocks: how long a product is out is watched by the take-back register's overdue rule."""
    jobs = _jobs()
    now = ctx.now()
    template = jobs.active_template(ctx.session, "repair")
    items = "、".join(item_text(i) for i in takeback.items)
    followup = Job(ref=jobs.next_ref(ctx), type="repair", status=states.INITIAL,
                   customer_id=job.customer_id, contact_name=job.contact_name,
                   contact_phone=job.contact_phone, address=job.address,
                   product_model=job.product_model,
                   problem=f"送回维修好的产品 / Bring back the repaired product: "
                           f"{takeback.receipt_no} ({items})",
                   channel=job.channel, priority=job.priority, template=template,
                   created_by_id=actor.id, created_at=now, updated_at=now,
                   needs_review=False, change_seq=bump(ctx.session))
    ctx.session.add(followup)
    ctx.session.flush()
    jobs.record_event(ctx, actor, followup, "created", {
        "ref": followup.ref, "type": followup.type, "channel": followup.channel,
        "priority": followup.priority, "customer_id": followup.customer_id,
        "checklist_template_id": template.id, "from_receipt_id": takeback.id,
        "receipt_no": takeback.receipt_no, "source_job_id": job.id,
        "source_job_ref": job.ref})
    return followup


def takeback_return(ctx: Ctx, actor: Actor, job: Job, args: dict) -> Takeback:
    jobs = _jobs()
    signature = jobs.require_blob(ctx, args["signature_sha256"], actor)
    takeback = ctx.session.execute(select(Takeback).where(Takeback.id == args["receipt_id"])
                                   .with_for_update()).scalar_one_or_none()
    if takeback is None:
        raise DomainError("unknown_receipt", {"receipt_id": args["receipt_id"]})
    if job.id not in (takeback.job_id, takeback.followup_job_id):
        raise DomainError("receipt_not_on_job", {"receipt_id": takeback.id,
                                                 "receipt_no": takeback.receipt_no})
    if takeback.status == "returned":
        if takeback.return_signature_sha256 == args["signature_sha256"]:
            return takeback  # the same return again
        raise DomainError("already_returned", {"receipt_id": takeback.id,
                                               "receipt_no": takeback.receipt_no,
                                               "returned_at": jobs.iso(takeback.returned_at)},
                          status=409)
    jobs.ensure_open_for_evidence(job)
    if signature.content_type != "image/png":
        raise DomainError("signature_not_png", {"content_type": signature.content_type})
    retrieved = args.get("receipt_retrieved")
    retrieved = True if retrieved is None else bool(retrieved)
    note = (args.get("note") or "").strip() or None
    if not retrieved and not note:
        # The customer lost the receipt: say so on the record, then the slip is signed.
        raise DomainError("receipt_note_required", {"receipt_no": takeback.receipt_no})
    takeback.status = "returned"
    takeback.returned_at = ctx.now()
    takeback.returned_by_id = actor.id
    takeback.return_signature_sha256 = args["signature_sha256"]
    takeback.returned_on_job_id = job.id
    takeback.receipt_retrieved = retrieved
    takeback.return_signer_name = args.get("signer_name")
    takeback.return_note = note
    data = {"receipt_id": takeback.id, "receipt_no": takeback.receipt_no,
            "signature_sha256": args["signature_sha256"], "receipt_retrieved": retrieved,
            "note": note, "signer_name": takeback.return_signer_name,
            "receipt_job_id": takeback.job_id, "returned_on_job_id": job.id}
    jobs.record_event(ctx, actor, job, "takeback_return", data)
    jobs.touch(ctx, job)
    if takeback.job_id != job.id:
        source = ctx.session.get(Job, takeback.job_id)
        jobs.record_event(ctx, actor, source, "takeback_return", data)
        jobs.touch(ctx, source)
    return takeback


# --- in the office: decision and release ---------------------------------------------------

def get_request(ctx: Ctx, actor: Actor, request_id: str, for_update: bool = False
                ) -> PartsRequest:
    stmt = select(PartsRequest).where(PartsRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    request = ctx.session.execute(stmt).scalar_one_or_none() \
        if isinstance(request_id, str) and len(request_id) <= 36 else None
    if request is None:
        raise NotFound("parts_request")
    if actor.role == TECHNICIAN and request.job.technician_id != actor.id:
        raise NotFound("parts_request")
    return request


def decide(ctx: Ctx, actor: Actor, request_id: str, decision: str, reason: str | None,
           cause: str | None = None) -> PartsRequest:
    """The after-sales head's approval or refusal (supervisor, admin)."""
    if actor.role not in REVIEW_ROLES:
        raise Forbidden("forbidden", {"role": actor.role})
    request = get_request(ctx, actor, request_id, for_update=True)
    if decision not in DECISIONS:
        raise DomainError("bad_parts_decision", {"decision": decision, "allowed": DECISIONS})
    if request.status != "pending":
        raise DomainError("already_decided", {"status": request.status,
                                              "decided_at": _jobs().iso(request.decided_at)},
                          status=409)
    reason = (reason or "").strip() or None
    if decision == "refuse" and not reason:
        raise DomainError("reason_required", {"decision": decision})
    if cause is not None and cause not in CAUSES:
        raise DomainError("bad_cause", {"cause": cause, "allowed": CAUSES})
    cause = cause or request.cause
    if decision == "approve" and not cause:
        # §9.7: the cause is found and entered in the record before anything is ordered.
        raise DomainError("cause_required", {"allowed": CAUSES})
    request.status = "approved" if decision == "approve" else "refused"
    request.decided_by_id = actor.id
    request.decided_at = ctx.now()
    request.decision_reason = reason
    request.cause = cause
    job = ctx.session.get(Job, request.job_id)
    _jobs().record_event(ctx, actor, job, "parts_decision", {
        "request_id": request.id, "decision": decision, "status": request.status,
        "reason": reason, "cause": cause, "part_name": request.part_name,
        "kind": request.kind})
    _jobs().touch(ctx, job)
    return request


def release(ctx: Ctx, actor: Actor, request_id: str) -> PartsRequest:
    """The warehouse hands the part out (出库): only against an approval on record."""
    if actor.role not in OFFICE_ROLES:
        raise Forbidden("forbidden", {"role": actor.role})
    request = get_request(ctx, actor, request_id, for_update=True)
    if request.status != "approved":
        raise DomainError("parts_not_approved", {"status": request.status}, status=409)
    if request.released_at is not None:
        raise DomainError("already_released", {"released_at": _jobs().iso(request.released_at)},
                          status=409)
    request.released_by_id = actor.id
    request.released_at = ctx.now()
    job = ctx.session.get(Job, request.job_id)
    _jobs().record_event(ctx, actor, job, "parts_released", {
        "request_id": request.id, "part_name": request.part_name,
        "quantity": request.quantity, "approved_by_id": request.decided_by_id})
    _jobs().touch(ctx, job)
    return request


# --- lists, as each role may see them --------------------------------------------------------

def parts_query(user: User, status: str | None = None, kind: str | None = None,
                cause: str | None = None):
    stmt = select(PartsRequest).join(Job, Job.id == PartsRequest.job_id)
    if user.role == TECHNICIAN:
        stmt = stmt.where(Job.technician_id == user.id)
    if status == "released":
        stmt = stmt.where(PartsRequest.released_at.is_not(None))
    elif status:
        stmt = stmt.where(PartsRequest.status == status)
    if kind:
        stmt = stmt.where(PartsRequest.kind == kind)
    if cause:
        stmt = stmt.where(PartsRequest.cause == cause)
    return stmt


def takebacks_query(user: User, status: str | None = None):
    stmt = select(Takeback).join(Job, Job.id == Takeback.job_id)
    if user.role == TECHNICIAN:
        other = aliased(Job)
        followup = select(other.id).where(other.id == Takeback.followup_job_id,
                                          other.technician_id == user.id).exists()
        stmt = stmt.where(or_(Job.technician_id == user.id, followup))
    if status:
        stmt = stmt.where(Takeback.status == status)
    return stmt


def parts_dict(p: PartsRequest, with_job: bool = True) -> dict:
    iso = _jobs().iso
    out = {"id": p.id, "request_id": p.id, "job_id": p.job_id, "part_name": p.part_name,
           "quantity": p.quantity, "kind": p.kind, "reason": p.reason, "status": p.status,
           "cause": p.cause, "photo_sha256s": p.photo_sha256s or [],
           "created_at": iso(p.created_at), "requested_by_id": p.requested_by_id,
           "decided_at": iso(p.decided_at), "decided_by_id": p.decided_by_id,
           "decided_by": p.decided_by.display_name if p.decided_by else None,
           "decision_reason": p.decision_reason, "released_at": iso(p.released_at),
           "released_by": p.released_by.display_name if p.released_by else None}
    if with_job:
        out["job_ref"] = p.job.ref if p.job else None
    return out


def takeback_dict(t: Takeback) -> dict:
    iso = _jobs().iso
    followup = t.followup_job
    return {"receipt_id": t.id, "receipt_no": t.receipt_no, "job_id": t.job_id,
            "job_ref": t.job.ref if t.job else None, "status": t.status,
            "items": t.items, "condition": t.condition, "photo_sha256s": t.photo_sha256s or [],
            "signer_name": t.signer_name, "taken_at": iso(t.taken_at),
            "taken_by": t.taken_by.display_name if t.taken_by else None,
            "returned_at": iso(t.returned_at), "returned_on_job_id": t.returned_on_job_id,
            "receipt_retrieved": t.receipt_retrieved, "return_note": t.return_note,
            "product_model": t.job.product_model if t.job else None,
            "followup_job_id": t.followup_job_id,
            "followup_ref": followup.ref if followup else None,
            "followup_status": followup.status if followup else None}


def takebacks_for_job(session: Session, job_id: str) -> list[Takeback]:
    """The receipts a job shows: taken on it, or to be brought back on it (follow-up)."""
    return session.execute(select(Takeback).where(
        or_(Takeback.job_id == job_id, Takeback.followup_job_id == job_id))
        .order_by(Takeback.taken_at, Takeback.id)).scalars().all()


# --- the overdue rule and the measured records ----------------------------------------------

def overdue_days(session: Session) -> int:
    row = session.get(Setting, SETTINGS_KEY)
    try:
        value = int((row.value or {}).get("overdue_days")) if row else DEFAULT_OVERDUE_DAYS
    except (TypeError, ValueError):
        value = DEFAULT_OVERDUE_DAYS
    return value if 1 <= value <= 365 else DEFAULT_OVERDUE_DAYS


def set_overdue_days(ctx: Ctx, actor: Actor, days) -> int:
    if actor.role != ADMIN:
        raise Forbidden("forbidden", {"role": actor.role})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise DomainError("bad_setting", {"field": "overdue_days", "problem": "range",
                                          "min": 1, "max": 365})
    row = ctx.session.get(Setting, SETTINGS_KEY)
    old = dict(row.value) if row and row.value else None
    if row is None:
        row = Setting(key=SETTINGS_KEY, value={})
        ctx.session.add(row)
    row.value = {"overdue_days": days}
    ctx.session.add(SettingChange(key=SETTINGS_KEY, old=old, new=row.value, by_id=actor.id,
                                  at=ctx.now()))
    return days


def is_overdue(t: Takeback, now: datetime, days: int) -> bool:
    return t.status == "out" and t.taken_at is not None and now - t.taken_at > timedelta(days=days)


def parts_by_cause(session: Session, since: datetime | None = None,
                   until: datetime | None = None) -> list[tuple]:
    """(cause or None, kind, requests, quantity) of every request not refused, requested in
    [since, until)."""
    stmt = select(PartsRequest.cause, PartsRequest.kind, func.count(PartsRequest.id),
                  func.coalesce(func.sum(PartsRequest.quantity), 0)) \
        .where(PartsRequest.status != "refused") \
        .group_by(PartsRequest.cause, PartsRequest.kind)
    if since is not None:
        stmt = stmt.where(PartsRequest.created_at >= since)
    if until is not None:
        stmt = stmt.where(PartsRequest.created_at < until)
    return sorted(session.execute(stmt).all(), key=lambda r: (-r[2], r[0] or "~", r[1]))


def takebacks_by_model(session: Session, since: datetime | None = None,
                       until: datetime | None = None) -> list[tuple]:
    """(product model, take-backs, still out) over the receipts taken in [since, until)."""
    out_count = func.sum(case((Takeback.status == "out", 1), else_=0))
    stmt = select(Job.product_model, func.count(Takeback.id), out_count) \
        .join(Job, Job.id == Takeback.job_id).group_by(Job.product_model)
    if since is not None:
        stmt = stmt.where(Takeback.taken_at >= since)
    if until is not None:
        stmt = stmt.where(Takeback.taken_at < until)
    return sorted(((m, n, int(o or 0)) for m, n, o in session.execute(stmt).all()),
                  key=lambda r: (-r[1], r[0]))


def blob_referenced(session: Session, sha256: str) -> bool:
    """Is this blob evidence of a parts request or a take-back (for the office's images)?"""
    if session.execute(select(Takeback.id).where(or_(
            Takeback.receipt_signature_sha256 == sha256,
            Takeback.return_signature_sha256 == sha256,
            cast(Takeback.photo_sha256s, String).contains(sha256))).limit(1)).first():
        return True
    return session.execute(select(PartsRequest.id).where(
        cast(PartsRequest.photo_sha256s, String).contains(sha256)).limit(1)).first() is not None
