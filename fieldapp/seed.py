"""Demo data exactly as the contract promises: five accounts (password `fieldapp-demo`), and
tech1 with at least one job of every type scheduled for today (each with the call that agreed
its visit on record). Only outside production."""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from fieldapp.accounts import service as accounts
from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import User
from fieldapp.demo_history import seed_history
from fieldapp.extensions import db
from fieldapp.jobs import service as job_service
from fieldapp.jobs.checklists import install_standard_templates
from sync.pull import epoch

DEMO_PASSWORD = "fieldapp-demo"
# Display names are what people are called, never their sign-in names: the office pages
# and the survey show them as they are (issue 17).
DEMO_USERS = [
    ("tech1", "technician", "张师傅", "13800000001"),
    ("tech2", "technician", "李师傅", "13800000002"),
    ("dispatcher1", "dispatcher", "王调度", "13800000003"),
    ("supervisor1", "supervisor", "赵主管", "13800000004"),
    ("admin", "admin", "系统管理员", None),
]

# (type, customer, phone, address, product, problem, channel, technician, hour, priority)
DEMO_JOBS = [
    ("delivery", "陈女士", "139-1234-0001", "上海市浦东新区锦绣路 1001 弄 12 号 601 室",
     "北欧实木餐桌 DT-160", "新购餐桌及四把餐椅送货上门", "store", "tech1", 9, "normal"),
    ("installation", "刘先生", "139-1234-0002", "上海市徐汇区漕溪北路 88 号 1203 室",
     "三门衣柜 WR-3D-200", "衣柜送货后需上门安装", "phone", "tech1", 11, "normal"),
    ("repair", "周女士", "139-1234-0003", "上海市静安区延平路 135 号 5 楼",
     "布艺沙发 SF-3S", "沙发扶手松动，坐垫有异响", "phone", "tech1", 14, "urgent"),
    ("inspection", "吴先生", "139-1234-0004", "上海市闵行区七莘路 3399 号 22 栋 302",
     "实木床 BD-180", "床板开裂，顾客要求上门查看", "online", "tech1", 16, "normal"),
    ("repair", "郑女士", "139-1234-0005", "上海市长宁区天山路 600 号 9 楼",
     "电动升降桌 ED-140", "升降电机无反应", "email", "tech2", 10, "normal"),
    ("delivery", "孙先生", "139-1234-0006", "上海市杨浦区国定路 335 号 2 号楼 1101",
     "书柜 BC-5L", "书柜送货", "store", "tech2", 15, "normal"),
    ("repair", "冯女士", "139-1234-0007", "上海市普陀区真北路 1108 号 701",
     "餐边柜 SB-120", "柜门合页脱落", "phone", None, None, "normal"),
    ("installation", "何先生", "139-1234-0008", "上海市宝山区牡丹江路 1569 号 403",
     "儿童床 KB-120", "儿童床组装", "online", None, None, "normal"),
]


def seed_demo(session, clock) -> None:
    ctx = Ctx(session=session, clock=clock)
    epoch(session)
    install_standard_templates(session, clock)
    users = {}
    for username, role, name, phone in DEMO_USERS:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        users[username] = user or accounts.create_user(ctx, username, DEMO_PASSWORD, role, name,
                                                       phone=phone)
    dispatcher = Actor(user=users["dispatcher1"])
    tz = ctx.policy.tz
    today = clock.now().astimezone(tz).date()
    for (type_, name, phone, address, product, problem, channel, tech, hour,
         priority) in DEMO_JOBS:
        start = datetime.combine(today, time(hour), tz) if hour is not None else None
        job = job_service.intake(ctx, dispatcher, {
            "type": type_, "customer": {"name": name, "phone": phone, "address": address},
            "product_model": product, "problem": problem, "channel": channel,
            "priority": priority})
        if tech:
            # A visit on the board was agreed with the customer on a call: the record says
            # so (else a fresh start shows a missed first contact on every card). The two
            # unassigned jobs wait for their first call, as real ones would.
            job_service.record_contact(ctx, dispatcher, job, "reached", None)
            job_service.update_job(ctx, dispatcher, job, {
                "technician_id": users[tech].id, "scheduled_start": start,
                "scheduled_end": start + timedelta(hours=2)})
    session.commit()


def seed_if_empty(app) -> bool:
    """Seed a migrated but empty database (first start outside production): the demo
    accounts and today's jobs, then a few past days of work (`DEMO_HISTORY`, on by
    default)."""
    with app.app_context():
        if not inspect(db.engine).has_table("users"):
            return False  # not migrated yet: `flask db upgrade` first
        if db.session.execute(select(User.id).limit(1)).first() is not None:
            return False
        try:
            seed_demo(db.session, app.extensions["fieldapp.clock"])
        except IntegrityError:  # another worker seeded at the same moment
            db.session.rollback()
            return False
        if app.config.get("DEMO_HISTORY", True):
            try:
                seed_history(app, DEMO_PASSWORD)
            except Exception:  # noqa: BLE001 - the past is a nicety; the start must go on
                db.session.rollback()
                logging.getLogger("fieldapp.seed").exception("demo history not loaded")
        return True
