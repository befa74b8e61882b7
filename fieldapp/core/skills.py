"""The skills a job may need, each named once in both languages. A job type says which ones a
job of its type needs by default (`JobType.skills`, core/job_types.py); the dispatcher sends
a job to a technician who has them (docs/domain: 「将售后服务工单派发给具备相关技能的售后服务
人员」). Plain data, no Flask.

From the after-sales rules: a delivery is driven to the customer and carried in lifting, never
dragging; a product is assembled on its opened carton; a repairer finds the cause of the
damage, then repairs or replaces parts.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skill:
    key: str
    label: dict  # {"zh-CN": ..., "en": ...}


SKILLS = (
    Skill("driving", {"zh-CN": "驾车送货", "en": "Driving"}),
    Skill("carrying", {"zh-CN": "搬运", "en": "Carrying"}),
    Skill("assembly", {"zh-CN": "组装安装", "en": "Assembly"}),
    Skill("diagnosis", {"zh-CN": "故障判断", "en": "Fault diagnosis"}),
    Skill("repair", {"zh-CN": "维修", "en": "Repair"}),
)
BY_KEY = {s.key: s for s in SKILLS}
