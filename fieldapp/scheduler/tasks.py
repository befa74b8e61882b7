"""The registered tasks, in the order run_once runs them: the rules first, the outbox last, so
what the rules enqueued goes out in the same run."""
from __future__ import annotations

import logging

from fieldapp.blobstore import store
from fieldapp.notifications.service import deliver_due
from fieldapp.scheduler import timed
from fieldapp.scheduler.registry import task
from fieldapp.visits.service import create_due

log = logging.getLogger("fieldapp.scheduler")


@task("sla_escalations")
def sla_escalations(app, ctx):
    """SLA breaches: first contact -> dispatchers, complaint escalation -> supervisors,
    resolution -> both."""
    return {"notified": timed.escalate_breaches(ctx)}


@task("return_visits")
def return_visits(app, ctx):
    """Create the return visits due (days after approval, a desk setting)."""
    created = create_due(ctx)
    return {"created": len(created) if hasattr(created, "__len__") else created}


@task("job_reminders")
def job_reminders(app, ctx):
    """Remind technicians of tomorrow's jobs."""
    return {"reminded": timed.remind_tomorrow(ctx, timed.settings_from_config(app.config))}


@task("stale_devices")
def stale_devices(app, ctx):
    """Flag devices silent for a day while their user holds field work."""
    return {"flagged": timed.flag_stale_devices(ctx, timed.settings_from_config(app.config))}


@task("takeback_overdue")
def takeback_overdue(app, ctx):
    """Products out for repair longer than the take-back register allows."""
    return {"flagged": timed.flag_overdue_takebacks(ctx)}


# A temporary upload file untouched this long belongs to an upload that died with its process.
INCOMING_GRACE_SECONDS = 3600


@task("blob_retention")
def blob_retention(app, ctx):
    """Remove blobs nothing references, after the retention period, and what uploads cut
    off by a crash left in the store's `.incoming` folder (untouched for an hour)."""
    removed = timed.remove_old_blobs(ctx, timed.settings_from_config(app.config))
    failed = 0
    if removed:
        ctx.session.commit()  # the rows are gone for good before the files go
        for sha in removed:
            try:
                store().delete(sha)  # deleting what is gone is no error, on files or S3
            except Exception:  # noqa: BLE001 - an object store's error is no OSError
                # One that failed (the object store unreachable) must not keep the others.
                log.exception("blob_retention: could not delete %s from the blob store", sha)
                failed += 1
    out = {"removed": len(removed)}
    if failed:
        out["delete_failed"] = failed
    sweep = getattr(store(), "sweep_incoming", None)
    if sweep is not None:
        swept = sweep(ctx.now().timestamp() - INCOMING_GRACE_SECONDS)
        if swept:
            out["stale_uploads"] = swept
    return out


@task("deliveries")
def deliveries(app, ctx):
    """Send the outbox (e-mail, webhook) with retries."""
    ctx.session.commit()
    return deliver_due(app, ctx.now())
