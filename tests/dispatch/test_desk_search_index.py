"""The desk's search index (issue 17): names and phone fragments are found through FTS5
(SQLite) or pg_trgm (PostgreSQL), with the desk's meaning unchanged, and the index follows
every change of the jobs and customers it covers. Runs on both databases."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, select, text

from bench.bulk_jobs import make_jobs
from fieldapp.desk import service as desk_service
from fieldapp.extensions import db
from fieldapp.jobs import search_index
from fieldapp.jobs.models import Customer, Job
from fieldapp.models import Base
from tests.dispatch.test_desk_lists import refs
from tests.support.deskkit import Desk, intake_form, job_id_from


@pytest.fixture
def desk(app, demo):
    return Desk(app, "dispatcher1")


def add(desk, name: str, phone: str) -> str:
    """A job through the desk's own intake form; its reference."""
    job_id = job_id_from(desk.post("/dispatch/intake", data=intake_form(name=name,
                                                                       phone=phone)))
    html = desk.html(f"/dispatch/jobs/{job_id}")
    return re.search(r"FA\d{6}-\d{4}", html).group(0)


def found(desk, q: str, **filters) -> list[str]:
    return refs(desk.html("/dispatch/jobs?" + urlencode({"q": q, **filters})))


def test_names_phone_endings_and_references(app, desk):
    zhang = add(desk, "张三", "138-0013-8000")
    zhang_feng = add(desk, "张三丰", "138 0013 8111")
    wang = add(desk, "王小明", "13800138222")
    latin = add(desk, "Li Lei", "13612345678")
    odd = add(desk, 'O"Neil 5%_off', "13612340000")

    # A two-character Chinese name (no trigram): the names that start with it.
    assert set(found(desk, "张三")) == {zhang, zhang_feng}
    assert found(desk, "张") and set(found(desk, "张")) >= {zhang, zhang_feng}
    # Three characters and more: anywhere in the name, in any case.
    assert found(desk, "张三丰") == [zhang_feng]
    assert found(desk, "王小明") == [wang] and found(desk, "小明") == []  # a 2-char middle
    assert found(desk, "i le") == [latin] and found(desk, "LI LEI") == [latin]
    # Quotes, % and _ are text, never operators or wildcards.
    assert found(desk, 'O"Neil') == [odd] and found(desk, "5%_") == [odd]
    assert found(desk, "5%") == [] and found(desk, "5__") == []
    # The ending of a number (尾号), 4 digits: every customer whose number ends so.
    assert set(found(desk, "8000")) == {zhang}
    assert found(desk, "0013") == []  # inside a number is not its ending
    # 7-10 digits: the start or the ending of a number.
    assert set(found(desk, "1361234")) == {latin, odd}
    assert set(found(desk, "0013-8111")) == {zhang_feng}
    # A whole number, however typed; a reference.
    assert found(desk, "+86 138 0013 8222") == [wang]
    assert found(desk, zhang.lower()) == [zhang]
    # The count is the index's own, the same as the rows listed.
    assert "<b>2</b>" in desk.html("/dispatch/jobs?q=张三")
    # The search box with other filters still means the same.
    assert set(found(desk, "张三", status="new")) == {zhang, zhang_feng}
    assert found(desk, "张三", status="approved") == []


def test_the_index_follows_every_change(app, desk):
    ref = add(desk, "赵六", "13900001111")
    assert found(desk, "赵六") == [ref] and found(desk, "1111") == [ref]
    with app.app_context():
        job = db.session.execute(select(Job).where(Job.ref == ref)).scalar_one()
        job.contact_name = "钱七七"  # a correction of the name
        customer = db.session.get(Customer, job.customer_id)
        customer.phone, customer.phone_key = "13900002222", "13900002222"  # a new number
        db.session.commit()
    assert found(desk, "赵六") == [] and found(desk, "钱七七") == [ref]
    assert found(desk, "1111") == [] and found(desk, "2222") == [ref]
    assert found(desk, "13900002222") == [ref]
    # Another customer takes the job over (a job moved to the right customer).
    other = add(desk, "孙八", "13900003333")
    with app.app_context():
        job = db.session.execute(select(Job).where(Job.ref == ref)).scalar_one()
        moved_to = db.session.execute(select(Job).where(Job.ref == other)).scalar_one()
        job.customer_id = moved_to.customer_id
        db.session.commit()
    assert set(found(desk, "3333")) == {ref, other} and found(desk, "2222") == []
    # A job removed is no longer found (the index row goes with it).
    with app.app_context():
        gone = db.session.execute(select(Job.id).where(Job.ref == other)).scalar_one()
        for table in reversed(Base.metadata.sorted_tables):  # what refers to it, then it
            if "job_id" in table.c:
                db.session.execute(delete(table).where(table.c.job_id == gone))
        db.session.execute(delete(Job.__table__).where(Job.__table__.c.id == gone))
        db.session.commit()
    assert found(desk, "孙八") == [] and found(desk, "3333") == [ref]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            jobs = db.session.execute(text("SELECT count(*) FROM jobs")).scalar()
            rows = db.session.execute(text("SELECT count(*) FROM job_search")).scalar()
            mapped = db.session.execute(text("SELECT count(*) FROM job_search_map")).scalar()
        assert jobs == rows == mapped


def test_the_searches_use_the_index(app, desk):
    """The plan, not only the answer: a name and a phone ending go through the index made
    for them (on PostgreSQL with sequential scans off: the test tables are tiny)."""
    add(desk, "陈女士", "13700001234")
    with app.app_context():
        policy = app.extensions["fieldapp.policy"]
        session = db.session
        dialect = session.get_bind().dialect.name
        plans = {}
        for q in ("陈女士", "1234", "陈女"):
            stmt = desk_service.job_statement(desk_service.JobFilter(q=q), policy, dialect)
            compiled = stmt.compile(session.get_bind())
            if dialect == "sqlite":
                rows = session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled),
                    tuple(compiled.params[key] for key in compiled.positiontup))
                plans[q] = " ".join(row[3] for row in rows)
            else:
                session.execute(text("SET LOCAL enable_seqscan = off"))
                rows = session.connection().exec_driver_sql("EXPLAIN " + str(compiled),
                                                            compiled.params)
                plans[q] = " ".join(row[0] for row in rows)
        session.rollback()
    if dialect == "sqlite":
        assert "job_search VIRTUAL TABLE" in plans["陈女士"]
        assert "job_search VIRTUAL TABLE" in plans["1234"]
        assert "ix_jobs_name_prefix" in plans["陈女"]
    else:
        assert "ix_jobs_contact_name_trgm" in plans["陈女士"]
        assert "ix_customers_phone_key_trgm" in plans["1234"]
        assert "ix_jobs_contact_name_trgm" in plans["陈女"]


def test_a_common_name_walks_the_map_in_list_order(app, demo):
    """SQLite: when a name matches many jobs, a page walks ix_job_search_map_created newest
    first instead of sorting every match; both ways give the same pages, cursor after cursor."""
    with app.app_context():
        if db.session.get_bind().dialect.name != "sqlite":
            pytest.skip("the FTS5 map is SQLite's")
        make_jobs(db.session, 300, today=date(2026, 11, 24), per_day=60,
                  tz=app.extensions["fieldapp.policy"].tz, technician_ids=[demo["tech1"]])
        db.session.commit()
        common = search_index.fts_conditions("name", "陈女士")
        rare = search_index.fts_conditions("name", "陈女士丙")
        assert search_index.walk_is_cheaper(db.session, common, 1)
        assert not search_index.walk_is_cheaper(db.session, common, 51)
        assert not search_index.walk_is_cheaper(db.session, rare, 1)

        def pages(walk: bool) -> list[list[str]]:
            out, after = [], None
            while True:
                ids = db.session.execute(search_index.fts_newest_job_ids(
                    common, after, 3, walk=walk)).scalars().all()
                if not ids:
                    return out
                out.append(ids)
                last = db.session.get(Job, ids[-1])
                after = [last.created_at, last.id]

        walked, sorted_ = pages(True), pages(False)
        assert walked == sorted_ and sum(map(len, walked)) > 6
        stmt = search_index.fts_newest_job_ids(common, None, 3, walk=True)
        compiled = stmt.compile(db.session.get_bind())
        plan = " ".join(row[3] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(compiled.params[key] for key in compiled.positiontup)))
        assert "ix_job_search_map_created" in plan and "TEMP B-TREE" not in plan
