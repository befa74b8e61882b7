"""The one registry of job types: every kind of visit the company makes, declared once, with
its name in both languages, its SLA default, the skills it needs (core/skills.py) and whether
a complaint or a return visit may open one. The server (intake, settings, the standard
checklists), the desk's and the review's pages (fieldapp/labels.py), the API's schemas and
the phone (/app/registry.js, fieldapp/faces/phone/registry.py) read it from here. Plain data,
no Flask.

A job type's checklist is the active template of the same key (fieldapp/jobs/checklists.py
installs one per type from `standard_checklists`, whose items name the types they apply to).

Adding a job type: one `JobType` below, its checklist items in `standard_checklists.py`
(the tests there fail until every type has its items), and a migration if existing jobs
need anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from .skills import BY_KEY as SKILLS_BY_KEY


@dataclass(frozen=True)
class JobType:
    key: str
    label: dict  # {"zh-CN": ..., "en": ...}
    resolution: tuple[int, str]  # the SLA's default resolution limit: (amount, unit)
    skills: tuple[str, ...]  # what a job of this type needs by default (core/skills.py keys)
    follow_up: bool = False  # a complaint or a return visit may open a job of this type

    def __post_init__(self):
        # A misspelt skill would never match a technician's: refuse it at import.
        unknown = [key for key in self.skills if key not in SKILLS_BY_KEY]
        if unknown or not self.skills:
            raise ValueError(f"job type {self.key}: unknown or no skills {unknown}")


TYPES = (
    JobType("delivery", {"zh-CN": "送货", "en": "Delivery"}, (48, "hours"),
            skills=("driving", "carrying")),
    JobType("installation", {"zh-CN": "安装", "en": "Installation"}, (48, "hours"),
            skills=("carrying", "assembly")),
    JobType("repair", {"zh-CN": "维修", "en": "Repair"}, (3, "working_days"),
            skills=("diagnosis", "repair"), follow_up=True),
    JobType("inspection", {"zh-CN": "上门查看", "en": "Inspection"}, (3, "working_days"),
            skills=("diagnosis",), follow_up=True),
)
BY_KEY = {t.key: t for t in TYPES}

# Every job type, in the order the pages list them.
JOB_TYPES = tuple(t.key for t in TYPES)
# What a complaint's or a return visit's follow-up job may be (inspection first: the usual).
FOLLOW_UP_TYPES = tuple(sorted((t.key for t in TYPES if t.follow_up),
                               key=lambda key: key != "inspection"))
