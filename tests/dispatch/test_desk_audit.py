"""Every desk action leaves its trace: job changes in the job's trail (JobEvent), complaint
changes in the complaint's (ComplaintEvent), settings in SettingChange; each with who, their
role and the server time from the injected clock; the trails refuse edits and deletes."""
import re

import pytest

from tests.dispatch.test_desk_clocks import settings_form
from tests.support.deskkit import Desk, intake_form, job_id_from, sh, z
from tests.support.helpers import intake_body, sync_push


def trail(api, job_id):
    return api.get(f"/api/v1/jobs/{job_id}", as_="dispatcher1").get_json()["events"]


@pytest.mark.parametrize("who", ["dispatcher1", "admin"])
def test_job_actions_on_the_desk_are_in_the_jobs_trail(app, api, demo, clock, who):
    role = {"dispatcher1": "dispatcher", "admin": "admin"}[who]
    desk = Desk(app, who)
    job_id = job_id_from(desk.post("/dispatch/intake", data=intake_form()))
    steps = [
        ("contact", lambda: desk.post(f"/dispatch/jobs/{job_id}/contact",
                                      data={"outcome": "no_answer"})),
        ("contact", lambda: desk.post(f"/dispatch/jobs/{job_id}/contact",
                                      data={"outcome": "reached", "note": "约明天"})),
        ("assigned", lambda: desk.post(f"/dispatch/jobs/{job_id}/schedule", data={
            "technician_id": str(demo["tech1"]), "day": "2026-11-25", "start": "10:00",
            "end": "11:00"})),
        ("rescheduled", lambda: desk.post(f"/dispatch/jobs/{job_id}/schedule", data={
            "technician_id": str(demo["tech1"]), "day": "2026-11-25", "start": "13:00",
            "end": "14:00"})),
        ("assigned", lambda: desk.post(f"/dispatch/jobs/{job_id}/schedule", data={
            "technician_id": str(demo["tech2"]), "day": "2026-11-25", "start": "13:00",
            "end": "14:00"})),
        ("unassigned", lambda: desk.post(f"/dispatch/jobs/{job_id}/schedule", data={
            "technician_id": "", "day": "2026-11-25", "start": "13:00", "end": "14:00"})),
        ("status", lambda: desk.post(f"/dispatch/jobs/{job_id}/cancel",
                                     data={"reason": "顾客取消"})),
    ]
    for n, (kind, act) in enumerate(steps, 1):
        clock.advance(minutes=1)
        assert act().status_code == 302
        last = trail(api, job_id)[-1]
        assert last["type"] == kind, (n, last)
        assert last["actor_id"] == demo[who] and last["actor_role"] == role
        assert last["server_at"] == z(clock.now())
        assert last["device_id"] is None  # from the web, not a phone
    types = [e["type"] for e in trail(api, job_id)]
    # Assigning with a time records the time set, then the assignment.
    assert types == ["created", "contact", "contact", "rescheduled", "assigned", "rescheduled",
                     "assigned", "unassigned", "status"]
    page = Desk(app, "dispatcher1").html(f"/dispatch/jobs/{job_id}")
    # Each event as a sentence (issue 17).
    for sentence in ("Registered job FA", "Called the customer: No answer",
                     "Called the customer: Reached (约明天)", "Moved the visit to 11-25 13:00–14:00",
                     "Reassigned from 张师傅", "Took the job off 李师傅",
                     "Cancelled the job (顾客取消)"):
        assert sentence in page, sentence


def test_deciding_late_evidence_is_in_the_trail(app, api, demo, clock):
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    job = [j for j in jobs if j["technician_id"] == demo["tech1"]][0]
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={"technician_id": demo["tech2"]})
    sync_push(api, "tech1", [("job.note", job["id"], {"text": "迟到的备注"})])
    conflict = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()["conflicts"][0]
    clock.advance(minutes=3)
    Desk(app, "admin").post(f"/dispatch/jobs/{job['id']}/conflicts/{conflict['id']}/resolve",
                            data={"resolution": "不采用"})
    last = trail(api, job["id"])[-1]
    assert last["type"] == "conflict_resolved" and last["actor_role"] == "admin"
    assert last["data"]["resolution"] == "不采用" and last["server_at"] == z(clock.now())


def test_complaint_actions_are_in_the_complaints_trail(app, api, demo, clock):
    desk = Desk(app, "dispatcher1")
    response = desk.post("/dispatch/complaints/new", data={
        "name": "郑女士", "phone": "13912340005", "about": "service", "severity": "general",
        "content": "客服电话打不通"})
    cid = response.headers["Location"].rsplit("/", 1)[1]
    acts = [
        ("reclassified", lambda: api.patch(f"/api/v1/complaints/{cid}", as_="dispatcher1",
                                           json={"severity": "major"})),
        ("escalated", lambda: desk.post(f"/dispatch/complaints/{cid}/move",
                                        data={"status": "escalated", "note": "报主管"})),
        ("contact", lambda: desk.post(f"/dispatch/complaints/{cid}/contact",
                                      data={"outcome": "reached", "satisfied": "no"})),
        ("job_created", lambda: desk.post(f"/dispatch/complaints/{cid}/jobs", data={
            "type": "inspection", "address": "上海市长宁区天山路 600 号", "problem": "回访"})),
        ("note", lambda: api.patch(f"/api/v1/complaints/{cid}", as_="admin",
                                   json={"note": "顾客来电催促"})),
        ("status", lambda: desk.post(f"/dispatch/complaints/{cid}/move",
                                     data={"status": "resolved", "note": "已安排专人回访"})),
    ]
    for kind, act in acts:
        clock.advance(minutes=2)
        assert act().status_code in (200, 302)
        events = api.get(f"/api/v1/complaints/{cid}", as_="dispatcher1").get_json()["events"]
        assert events[-1]["type"] == kind
        assert events[-1]["server_at"] == z(clock.now())
        assert events[-1]["actor_role"] in ("dispatcher", "admin")
    events = api.get(f"/api/v1/complaints/{cid}", as_="dispatcher1").get_json()["events"]
    assert events[0]["type"] == "created" and events[0]["actor_id"] == demo["dispatcher1"]
    assert events[5]["actor_id"] == demo["admin"]
    assert events[-1]["data"] == {"from": "escalated", "to": "resolved",
                                  "result": "已安排专人回访", "clocks_met": ["coordination"],
                                  "note": "已安排专人回访"}


def test_settings_changes_are_audited(app, demo, clock):
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["warn_percent"] = "30"
    clock.set(sh(2026, 11, 24, 11, 0))
    admin.post("/dispatch/settings", data=form)
    admin.post("/dispatch/settings", data=form)  # the same again: no new change
    from fieldapp.extensions import db
    from fieldapp.models import SettingChange

    with app.app_context():
        changes = db.session.query(SettingChange).order_by(SettingChange.id).all()
        assert [c.key for c in changes] == ["sla_policy", "desk"]
        desk_change = changes[1]
        assert desk_change.old is None and desk_change.new["warn_percent"] == 30
        assert desk_change.by_id == demo["admin"]
        assert desk_change.at == sh(2026, 11, 24, 11, 0)
    assert "系统管理员" in admin.html("/dispatch/settings")


def test_the_new_trails_refuse_edits_and_deletes(app, api, demo):
    from fieldapp.extensions import db
    from fieldapp.models import AuditTrailIsAppendOnly, ComplaintEvent, SettingChange

    api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "何先生", "phone": "13912340008"}, "about": "product",
        "content": "少了螺丝", "severity": "general"})
    with app.app_context():
        event = db.session.query(ComplaintEvent).first()
        event.type = "forged"
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.query(ComplaintEvent).first())
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.add(SettingChange(key="x", new={}, at=event.server_at))
        db.session.commit()
        change = db.session.query(SettingChange).first()
        change.new = {"y": 1}
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()


def test_the_trail_says_how_a_change_came_in(app, api, demo, clock):
    """A technician's change came from their phone (手机); an office user's through an API
    token came from no phone (经接口); a change on the desk's own pages says neither."""
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["tech1"], scheduled_start=z(sh(2026, 11, 24, 15)))).get_json()
    clock.advance(minutes=1)
    assert sync_push(api, "tech1", [("job.status", job["id"], {"status": "en_route"})]
                     ).status_code == 200
    desk = Desk(app, "dispatcher1")
    assert desk.post(f"/dispatch/jobs/{job['id']}/contact",
                     data={"outcome": "reached"}).status_code == 302
    assert all(e["device_id"] for e in trail(api, job["id"])[:-1])  # the API's and the phone's
    for lang, phone, api_word in (("zh_CN", "（手机）", "（经接口）"),
                                  ("en", " (phone)", " (via the API)")):
        page = Desk(app, "dispatcher1", lang=lang).html(f"/dispatch/jobs/{job['id']}")
        rows = re.findall(r"(?s)<tr><td>.*?</tr>", page.split('id="trail"')[1])
        who = [re.sub(r"<[^>]+>", "", row.split("<td>")[-1]).strip() for row in rows]
        assert [w.endswith(api_word) for w in who] == [True, True, False, False], who
        assert [w.endswith(phone) for w in who] == [False, False, True, False], who
