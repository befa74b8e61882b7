"""The one registry of job types (issue 15): each type declared once, complete, and read by
the rules that used to list the types themselves."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from fieldapp import labels
from fieldapp.core import job_types, skills, sla, standard_checklists


def test_every_type_is_declared_once_and_complete():
    keys = [t.key for t in job_types.TYPES]
    assert len(keys) == len(set(keys))
    for t in job_types.TYPES:
        assert t.label["zh-CN"] and t.label["en"] and t.label["zh-CN"] != t.label["en"]
        amount, unit = t.resolution
        assert amount > 0 and unit in sla.UNITS
        assert standard_checklists.items_for(t.key), t.key


def test_the_rules_read_the_registry():
    assert standard_checklists.JOB_TYPES == job_types.JOB_TYPES
    assert set(sla.SlaPolicy().resolution) == set(job_types.JOB_TYPES)
    assert job_types.FOLLOW_UP_TYPES == ("inspection", "repair")


def test_the_pages_name_each_type_in_both_languages(app):
    with app.test_request_context():
        for t in job_types.TYPES:
            with force_locale("en"):
                assert str(labels.JOB_TYPE[t.key]) == t.label["en"]
            with force_locale("zh"):
                assert str(labels.JOB_TYPE[t.key]) == t.label["zh-CN"]


def test_every_job_type_needs_known_skills_named_in_both_languages():
    for kind in job_types.TYPES:
        assert kind.skills and set(kind.skills) <= set(skills.BY_KEY), kind.key
    for skill in skills.SKILLS:
        assert skill.label["zh-CN"] and skill.label["en"] and \
            skill.label["zh-CN"] != skill.label["en"], skill.key


def test_a_job_type_with_an_unknown_skill_is_refused():
    with pytest.raises(ValueError, match="welding"):
        job_types.JobType("x", {"zh-CN": "某", "en": "X"}, (1, "hours"), skills=("welding",))
