"""Issue 17: a clock is an alarm (amber, red) only while someone can still act on it. One job's
life with an injected clock, asking at each moment which of its clocks the board shows as an
alarm, what the pill says, what the breaches page and the scheduler make of it."""
import re

from tests.support.deskkit import Desk, sh, z
from tests.support.helpers import complete_job, intake_body, sync_push
from tests.support.notify_kit import run

DAY = "2026-11-24"  # Tuesday; the job is registered at 09:00 (T0) and visited at 14:00


def card(desk, job_id, day=DAY):
    board = desk.get(f"/dispatch/board.json?day={day}").get_json()
    cards = [c for lane in board["lanes"] for c in lane["jobs"]] + board["unassigned"] + \
        board["to_reschedule"]
    found = next(c for c in cards if c["id"] == job_id)  # a failed visit shows twice
    return {c["name"]: c["level"] for c in found["sla"]}


def alarms(levels: dict) -> dict:
    return {name: level for name, level in levels.items() if level in ("warning", "breached")}


def pill(desk, ref, day=DAY) -> str:
    """The card's clock pill as the dispatcher reads it ("" when the card shows none)."""
    page = desk.html(f"/dispatch/?day={day}")
    article = page[page.index(f'data-ref="{ref}"'):]
    article = article[:article.index("</article>")]
    found = re.search(r'<span class="sla lvl-(\w+)"[^>]*>(.*?)</span></span>', article)
    if not found:
        return ""
    return found.group(1) + ": " + re.sub(r"<[^>]+>", "", found.group(2))


def overdue_section(desk) -> str:
    page = desk.html("/dispatch/breaches")
    return page.split("Overdue now")[1].split("About to break")[0]


def test_which_clocks_are_alarms_at_each_moment_of_a_jobs_life(app, api, demo, clock):
    desk = Desk(app, "dispatcher1")
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body()).get_json()
    ref = job["ref"]

    # 09:00 registered: the first call is due within 5 working minutes; nothing is late.
    assert alarms(card(desk, job["id"])) == {}
    assert pill(desk, ref) == "ok: First contact · 5 min left"
    # 09:04: less than a quarter of the 5 minutes left: amber.
    clock.set(sh(2026, 11, 24, 9, 4))
    assert alarms(card(desk, job["id"])) == {"first_contact": "warning"}
    assert pill(desk, ref) == "warning: First contact · 1 min left"
    # 10:20: nobody called: red, with how late in full.
    clock.set(sh(2026, 11, 24, 10, 20))
    assert alarms(card(desk, job["id"])) == {"first_contact": "breached"}
    assert pill(desk, ref) == "breached: First contact · 1 h 15 min overdue"
    assert ref in overdue_section(desk)

    # 10:25: the visit is agreed (14:00, tech1). Calling now would change nothing: the missed
    # call is history (breaches page, KPIs), not a red pill, and no notice goes out for it.
    clock.set(sh(2026, 11, 24, 10, 25))
    assert api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech1"], "scheduled_start": z(sh(2026, 11, 24, 14)),
        "scheduled_end": z(sh(2026, 11, 24, 16))}).status_code == 200
    assert card(desk, job["id"]) == {"first_contact": "missed", "response": "met",
                                     "resolution": "ok"}
    assert re.fullmatch(r"ok: Resolution · .+ left", pill(desk, ref))  # the next promise
    assert ref not in overdue_section(desk)
    missed = desk.html("/dispatch/breaches").split('id="missed"')[1]
    assert ref in missed and "missed by 1 h 20 min" in missed
    # On the record (the API's contract state) it stays a breach.
    sla = {c["name"]: c["state"] for c in api.get(f"/api/v1/jobs/{job['id']}",
                                                  as_="dispatcher1").get_json()["sla"]}
    assert sla["first_contact"] == "breached"
    run(app, "sla_escalations")
    from fieldapp.extensions import db
    from fieldapp.models import Notification

    with app.app_context():
        told = [n.body + n.subject for n in db.session.query(Notification)
                .filter(Notification.kind == "sla_first_contact")]
    assert told and not any(ref in text for text in told)  # the demo's two unassigned only

    # On the way and at work, the resolution clock (3 working days: Friday 09:00) runs.
    clock.set(sh(2026, 11, 24, 13, 40))
    sync_push(api, "tech1", [("job.status", job["id"], {"status": s})
                             for s in ("en_route", "on_site", "in_progress")],
              at=z(clock.now()))
    assert alarms(card(desk, job["id"])) == {}
    # Friday 09:00 passes with the work unfinished: someone can still act: red.
    clock.set(sh(2026, 11, 27, 9, 30))
    assert alarms(card(desk, job["id"])) == {"resolution": "breached"}
    assert pill(desk, ref) == "breached: Resolution · 30 min overdue"

    # 10:00 completed and signed: nothing left to do, late or not: no alarm, no pill.
    clock.set(sh(2026, 11, 27, 10))
    complete_job(api, job["id"], at=z(clock.now()))
    assert alarms(card(desk, job["id"])) == {}
    assert pill(desk, ref) == ""
    assert ref not in overdue_section(desk)
    met_late = desk.html("/dispatch/breaches").split("Met late in the last 7 days")[1]
    assert ref in met_late.split('id="missed"')[0]  # the late resolution, on record

    # Sent back, then approved: still nothing to chase.
    assert api.post(f"/api/v1/jobs/{job['id']}/review", as_="supervisor1", json={
        "decision": "rework", "comment": "照片不清楚"}).status_code == 200
    assert alarms(card(desk, job["id"])) == {}
    complete_job(api, job["id"], at=z(clock.now()), seed=3)
    assert api.post(f"/api/v1/jobs/{job['id']}/review", as_="supervisor1", json={
        "decision": "approve", "comment": "好"}).status_code == 200
    assert alarms(card(desk, job["id"])) == {}


def test_a_job_booked_at_intake_never_raises_a_first_contact_alarm(app, api, demo, clock):
    desk = Desk(app, "dispatcher1")
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["tech2"], scheduled_start=z(sh(2026, 11, 24, 15)))).get_json()
    clock.advance(hours=3)
    assert card(desk, job["id"])["first_contact"] == "stopped"  # stopped before it was due
    assert alarms(card(desk, job["id"])) == {}


def test_a_visit_that_failed_keeps_its_resolution_alarm(app, api, demo, clock):
    """A failed visit still needs someone (the dispatcher reschedules it): an alarm."""
    desk = Desk(app, "dispatcher1")
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["tech1"], scheduled_start=z(sh(2026, 11, 24, 15)))).get_json()
    sync_push(api, "tech1", [("job.status", job["id"], {"status": "en_route"}),
                             ("job.status", job["id"], {"status": "unsuccessful",
                                                        "reason": "顾客不在家"})],
              at=z(clock.now()))
    clock.set(sh(2026, 11, 27, 9, 1))
    assert alarms(card(desk, job["id"])) == {"resolution": "breached"}


def test_the_demo_board_shows_only_real_alarms(app, demo, clock):
    """A fresh demo, hours later: the scheduled visits had their call; only the two jobs
    nobody has called yet are red."""
    desk = Desk(app, "dispatcher1")
    clock.set(sh(2026, 11, 24, 14, 30))
    board = desk.get(f"/dispatch/board.json?day={DAY}").get_json()
    red = [c["ref"] for c in [c for lane in board["lanes"] for c in lane["jobs"]]
           + board["unassigned"] if any(v["level"] == "breached" for v in c["sla"])]
    assert len(red) == 2 and all(c["ref"] in red for c in board["unassigned"])
    assert board["counts"]["breached"] == 2


def test_counts_in_brackets_as_each_language_writes_them(app, demo, clock):
    """Chinese copy uses full-width brackets with no space (issue 17), English " (n)"."""
    zh, en = Desk(app, "dispatcher1", lang="zh_CN"), Desk(app, "dispatcher1", lang="en")
    heads = re.findall(r"<h2>([^<]*)</h2>", zh.html("/dispatch/breaches"))
    counted = [h for h in heads if re.search(r"\d", h)]
    assert len(counted) == 4 and all(re.search(r"\S（\d+）$", h) for h in counted), heads
    assert not any("(" in h for h in heads), heads
    assert "<span class=\"muted\">（今天）</span>" in zh.html("/dispatch/")
    heads = re.findall(r"<h2>([^<]*)</h2>", en.html("/dispatch/breaches"))
    assert sum(bool(re.search(r"\S \(\d+\)$", h)) for h in heads) == 4, heads
    assert "<span class=\"muted\"> (today)</span>" in en.html("/dispatch/")
