"""One change through the API, the one way: lock the record, let its service change it,
commit once."""
from __future__ import annotations

from contextlib import contextmanager

from fieldapp.extensions import db
from fieldapp.web import domain_ctx

from .auth_tokens import api_actor


@contextmanager
def changing(get, record_id):
    """`with changing(job_service.get_job, job_id) as (ctx, actor, job):` reads the record
    for update as the caller (`get` checks who may), the block changes it through its
    service, then the request commits once. An error skips the commit (the API's error
    handler rolls back), so a refused change stores nothing."""
    ctx, actor = domain_ctx(), api_actor()
    record = get(ctx, actor, record_id, for_update=True)
    yield ctx, actor, record
    db.session.commit()
