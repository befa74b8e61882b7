"""Sealing approved jobs and checking the seals: reads the database into the plain dicts
`fieldapp.core.seal` hashes. Nothing here commits."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.core import seal as seal_rules
from fieldapp.core.clock import iso
from fieldapp.jobs.counters import bump
from fieldapp.jobs.models import ChecklistAnswer, Job, JobEvent, Note, Photo, Review, Signature
from fieldapp.sealing.models import Seal

SEAL_COUNTER = "seal"


def _rows(session: Session, model, job_id: str, *where):
    return session.execute(select(model).where(model.job_id == job_id, *where)
                           ).scalars().all()


def snapshot(session: Session, job_id: str, last_event_id: int, review_id: int | None,
             version: int = seal_rules.VERSION) -> dict | None:
    """The sealed payload as the database holds it now (None: the job is gone)."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    job_fields = {name: getattr(job, name) for name in seal_rules.job_fields(version)}
    # Version 2 seals the time of record too; a version 1 seal is checked as it was made.
    timed = version >= 2

    def time_of_record(row, *more) -> dict:
        return {name: getattr(row, name) for name in ("at", *more)} if timed else {}

    answers = [{"item_key": a.item_key, "value": a.value, "note": a.note,
                "answered_by_id": a.answered_by_id, "device_id": a.device_id,
                "answered_at": a.answered_at, "device_at": a.device_at, **time_of_record(a)}
               for a in _rows(session, ChecklistAnswer, job_id)]
    photos = [{"id": p.id, "sha256": p.sha256, "item_key": p.item_key, "caption": p.caption,
               "taken_at": p.taken_at, "lat": p.lat, "lng": p.lng,
               "created_by_id": p.created_by_id, "created_at": p.created_at,
               **time_of_record(p, "device_at", "removed_at")}
              for p in _rows(session, Photo, job_id)]
    signatures = [{"id": s.id, "sha256": s.sha256, "signer_name": s.signer_name,
                   "signer_relation": s.signer_relation, "created_by_id": s.created_by_id,
                   "created_at": s.created_at, "device_at": s.device_at, **time_of_record(s)}
                  for s in _rows(session, Signature, job_id)]
    notes = [{"id": n.id, "text": n.text, "author_id": n.author_id,
              "author_role": n.author_role, "created_at": n.created_at,
              "device_at": n.device_at, **time_of_record(n)}
             for n in _rows(session, Note, job_id)]
    # Events after the seal (late evidence kept as a conflict) are not part of it.
    events = [{"id": e.id, "type": e.type, "data": e.data, "actor_id": e.actor_id,
               "actor_role": e.actor_role, "device_id": e.device_id,
               "server_at": e.server_at, "device_at": e.device_at, **time_of_record(e)}
              for e in _rows(session, JobEvent, job_id, JobEvent.id <= last_event_id)]
    review = session.get(Review, review_id) if review_id is not None else None
    review_dict = None if review is None or review.job_id != job_id else {
        "id": review.id, "decision": review.decision, "comment": review.comment,
        "by_id": review.by_id, "at": review.at}
    return seal_rules.payload(job_fields, answers, photos, signatures, events, notes,
                              review_dict, version=version)


def seal_job(ctx: Ctx, actor: Actor, job: Job, review: Review) -> Seal:
    """Seal an approved job, in the approving transaction. The seal counter's row lock
    orders concurrent approvals, so each seal chains to the one committed before it."""
    session = ctx.session
    session.flush()
    seq = bump(session, SEAL_COUNTER)
    previous = session.execute(select(Seal.digest).where(Seal.seq == seq - 1)
                               ).scalar_one_or_none() if seq > 1 else None
    previous_digest = previous or seal_rules.GENESIS
    last_event_id = session.execute(
        select(JobEvent.id).where(JobEvent.job_id == job.id).order_by(JobEvent.id.desc())
        .limit(1)).scalar_one()
    record = snapshot(session, job.id, last_event_id, review.id)
    row = Seal(job_id=job.id, job_ref=job.ref, seq=seq,
               digest=seal_rules.digest(record, previous_digest),
               previous_digest=previous_digest, version=seal_rules.VERSION,
               last_event_id=last_event_id, review_id=review.id,
               record=seal_rules.canonical_dict(record),
               sealed_at=ctx.now(), sealed_by_id=actor.id)
    session.add(row)
    session.flush()
    return row


def _recompute(session: Session):
    def recompute(seal: dict) -> dict | None:
        return snapshot(session, seal["job_id"], seal["last_event_id"], seal["review_id"],
                        version=seal["version"])
    return recompute


def _seal_dicts(seals: list[Seal]) -> list[dict]:
    out = []
    for s in seals:
        out.append({"seq": s.seq, "job_id": s.job_id, "ref": s.job_ref, "digest": s.digest,
                    "previous_digest": s.previous_digest, "version": s.version,
                    "last_event_id": s.last_event_id, "review_id": s.review_id,
                    "record": s.record})
    return out


def verify_all(session: Session) -> tuple[int, list[seal_rules.Problem]]:
    """Every seal in chain order: (how many seals, every problem found)."""
    seals = session.execute(select(Seal).order_by(Seal.seq)).scalars().all()
    return len(seals), seal_rules.verify_chain(_seal_dicts(seals), _recompute(session))


def verify_job(session: Session, job_id: str) -> tuple[Seal | None, list[seal_rules.Problem]]:
    """One job's seal, and what is wrong with it or its link to the seal before."""
    seal = session.execute(select(Seal).where(Seal.job_id == job_id)).scalar_one_or_none()
    if seal is None:
        return None, []
    chain = session.execute(select(Seal).where(Seal.seq.in_([seal.seq - 1, seal.seq]))
                            .order_by(Seal.seq)).scalars().all()
    dicts = _seal_dicts(chain)
    problems = []
    mine = dicts[-1]
    before = dicts[0] if len(dicts) == 2 else None
    expected_previous = before["digest"] if before else seal_rules.GENESIS
    if mine["previous_digest"] != expected_previous or (seal.seq > 1 and before is None):
        problems.append(seal_rules.Problem(seq=mine["seq"], job_id=mine["job_id"],
                                           ref=mine["ref"], code="chain_broken"))
    record = _recompute(session)(mine)
    if record is None:
        problems.append(seal_rules.Problem(seq=mine["seq"], job_id=mine["job_id"],
                                           ref=mine["ref"], code="job_deleted"))
    elif seal_rules.digest(record, mine["previous_digest"]) != mine["digest"]:
        problems.append(seal_rules.Problem(
            seq=mine["seq"], job_id=mine["job_id"], ref=mine["ref"], code="record_changed",
            detail=seal_rules.describe_change(mine["record"], record)))
    return seal, problems


def seal_dict(seal: Seal | None, verify_url: str | None = None) -> dict | None:
    if seal is None:
        return None

    return {"digest": seal.digest, "previous_digest": seal.previous_digest,
            "sealed_at": iso(seal.sealed_at), "seq": seal.seq, "version": seal.version,
            "sealed_by": seal.sealed_by.display_name if seal.sealed_by else None,
            "verify_url": verify_url,
            # Anyone holding the report may check it here, no login (fieldapp/faces/verify).
            "public_verify_url": f"/verify/{seal.digest}"}
