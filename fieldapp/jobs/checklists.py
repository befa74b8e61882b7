"""Installing the company's standard checklist as versioned templates."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.core import standard_checklists
from fieldapp.core.clock import Clock
from fieldapp.jobs.counters import bump
from fieldapp.jobs.models import ChecklistItem, ChecklistTemplate


def _signature(items: list[dict]) -> list[tuple]:
    return [(i["key"], i["kind"], bool(i["required"]), i.get("min_photos"),
             i.get("options"), i["phase"], i["label"]["zh-CN"], i["label"]["en"])
            for i in items]


def _item_signature(template: ChecklistTemplate) -> list[tuple]:
    return _signature([item.as_rule() | {"min_photos": item.min_photos,
                                         "options": item.options} for item in template.items])


def install_standard_templates(session: Session, clock: Clock) -> list[ChecklistTemplate]:
    """Make sure each job type's active template matches the standard list. A changed
    standard becomes a new version; jobs keep the version they were created with."""
    installed = []
    for job_type in standard_checklists.JOB_TYPES:
        items = standard_checklists.items_for(job_type)
        latest = session.execute(
            select(ChecklistTemplate).where(ChecklistTemplate.job_type == job_type)
            .order_by(ChecklistTemplate.version.desc()).limit(1)).scalar_one_or_none()
        if latest is not None and _item_signature(latest) == _signature(items):
            installed.append(latest)
            continue
        if latest is not None:
            for old in session.execute(select(ChecklistTemplate).where(
                    ChecklistTemplate.job_type == job_type)).scalars():
                old.active = False
        template = ChecklistTemplate(job_type=job_type,
                                     version=(latest.version + 1) if latest else 1,
                                     active=True, created_at=clock.now(),
                                     change_seq=bump(session))
        for position, item in enumerate(items):
            template.items.append(ChecklistItem(
                position=position, key=item["key"], kind=item["kind"],
                required=bool(item["required"]), min_photos=item.get("min_photos"),
                options=item.get("options"), phase=item["phase"],
                label_zh=item["label"]["zh-CN"], label_en=item["label"]["en"]))
        session.add(template)
        installed.append(template)
    session.flush()
    return installed
