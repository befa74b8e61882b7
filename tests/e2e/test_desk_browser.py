"""The desk in a real browser at desktop size (1366x900), in Chinese: intake of a returning
customer → phone contact → assignment → double-booking warning → reassignment on the board
(by drag and drop) → the board refreshing by itself; and a complaint from intake to
escalation. Screenshots land in screenshots/desk-*.png."""
import pytest

from bench.bulk_jobs import make_jobs
from tests.support.browser_kit import DESKTOP, shot, web_sign_in
from tests.support.helpers import ApiClient

pytestmark = pytest.mark.browser


@pytest.fixture
def office(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()  # board.js polls every 30 s: the test moves time instead of waiting
    web_sign_in(page, live_server, "dispatcher1")
    page.wait_for_url(live_server + "/dispatch/")
    yield page, errors
    context.close()


def tap_targets_ok(page):
    for height in page.eval_on_selector_all(
            "button, a.button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]),"
            " select", "els => els.filter(e => e.offsetParent).map(e => "
            "e.getBoundingClientRect().height)"):
        assert height >= 44, f"control only {height}px high"


def test_intake_contact_assign_reassign_on_the_board(office, live_server, app, demo):
    page, errors = office
    shot(page, "desk-board-zh-1366")
    tap_targets_ok(page)

    # Intake: a returning customer is recognised by phone, with her history.
    page.click("nav.desk-nav >> text=登记工单")
    page.wait_for_selector("h1:has-text('售后问题登记表')")
    page.fill("#phone", "139 1234 0003")
    page.wait_for_selector("#customer-history .found")
    assert "周女士" in page.inner_text("#customer-history")
    assert "布艺沙发 SF-3S" in page.inner_text("#customer-history")
    assert page.input_value("#name") == "周女士"  # filled from her file
    page.select_option("select[name=type]", "repair")
    page.fill("#product_model", "布艺沙发 SF-3S")
    page.fill("textarea[name=problem]", "扶手再次松动")
    page.fill("textarea[name=symptoms]", "坐下时左侧扶手晃动，三天前开始")
    shot(page, "desk-intake-returning-zh-1366")
    page.click("button:has-text('登记工单')")
    page.wait_for_selector(".flash-ok")
    ref = page.inner_text("h1").split()[0]
    assert ref.startswith("FA261124-")
    assert "首次联系" in page.inner_text("#clocks") and "剩余" in page.inner_text("#clocks")
    shot(page, "desk-job-new-zh-1366")

    # Phone contact: reached, the first-contact clock stops.
    page.check("input[name=outcome][value=reached]")
    page.fill("#contacts input[name=note]", "已约明天下午上门")
    page.click("#contacts button:has-text('记录通话')")
    page.wait_for_selector("#contacts .outcome-reached")
    first = page.inner_text("#clocks tbody tr:first-child")
    assert "首次联系" in first and "已达成" in first

    # Assignment on the board: click the card in the queue, pick tech2 and a time.
    page.click("nav.desk-nav >> text=调度看板")
    card = f".jcard[data-ref='{ref}']"
    page.click(f"section.queue {card} .jc-who")
    assert ref in page.inner_text("#panel-job")
    page.select_option("#schedule-form select[name=technician_id]", str(demo["tech2"]))
    page.fill("#schedule-form input[name=start]", "17:00")
    page.fill("#schedule-form input[name=end]", "18:00")
    shot(page, "desk-board-assign-panel-zh-1366")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_selector(f"section.lane[data-tech='{demo['tech2']}'] {card}")
    assert "李师傅" in page.inner_text(".flash-ok")

    # Reassignment to tech1 at a time that clashes: warned first, then confirmed.
    page.click(f"{card} .jc-who")
    page.select_option("#schedule-form select[name=technician_id]", str(demo["tech1"]))
    page.fill("#schedule-form input[name=start]", "16:30")
    page.fill("#schedule-form input[name=end]", "17:30")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_selector("h1:has-text('时间冲突')")
    assert "FA261124-0004" in page.inner_text("main")  # tech1's inspection 16:00-18:00
    shot(page, "desk-double-booking-zh-1366")
    page.click("text=返回")
    # Instead: drag the card onto tech1's lane and give a free time.
    page.locator(card).drag_to(page.locator(f"section.lane[data-tech='{demo['tech1']}']"))
    assert page.input_value("#schedule-form select[name=technician_id]") == str(demo["tech1"])
    page.fill("#schedule-form input[name=start]", "18:00")
    page.fill("#schedule-form input[name=end]", "19:00")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_selector(f"section.lane[data-tech='{demo['tech1']}'] {card}")
    assert page.locator(f"section.lane[data-tech='{demo['tech2']}'] {card}").count() == 0
    shot(page, "desk-board-reassigned-zh-1366")

    # The board refreshes by itself: a job assigned elsewhere appears after the next poll.
    api = ApiClient(app.test_client())
    queue = [j for j in api.get("/api/v1/jobs?status=new", as_="dispatcher1").get_json()["items"]
             if j["ref"] != ref][0]
    api.patch(f"/api/v1/jobs/{queue['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech2"], "scheduled_start": "2026-11-24T11:00:00Z",
        "scheduled_end": "2026-11-24T12:00:00Z"})
    moved = f"section.lane[data-tech='{demo['tech2']}'] .jcard[data-ref='{queue['ref']}']"
    assert page.locator(moved).count() == 0
    page.clock.run_for(31_000)
    page.wait_for_selector(moved)
    tap_targets_ok(page)
    assert not errors, errors


def test_complaint_from_intake_to_escalation(office, live_server, demo):
    page, errors = office
    page.click("nav.desk-nav >> text=投诉")
    page.click("text=登记投诉")
    page.fill("input[name=name]", "吴先生")
    page.fill("input[name=phone]", "139-1234-0004")
    page.fill("input[name=job_ref]", "FA261124-0004")
    page.check("input[name=about][value=technician]")
    page.select_option("select[name=about_technician_id]", str(demo["tech1"]))
    page.check("input[name=severity][value=major]")
    page.fill("textarea[name=content]", "师傅上门迟到两小时，还把地板划伤了，要求赔偿")
    shot(page, "desk-complaint-new-zh-1366")
    tap_targets_ok(page)
    page.click("button:has-text('登记投诉')")
    page.wait_for_selector(".flash-warn")
    assert "重大投诉" in page.inner_text(".flash-warn")
    clocks = page.inner_text("table.clocks")
    assert "上报" in clocks and "协调处理" in clocks and "剩余 1 小时" in clocks
    shot(page, "desk-complaint-open-zh-1366")
    page.select_option("form.move-escalated select[name=supervisor_id]", str(demo["supervisor1"]))
    page.fill("form.move-escalated textarea[name=note]", "顾客情绪激动，要求主管回电")
    page.click("form.move-escalated button")
    page.wait_for_selector(".cstatus-escalated")
    assert "赵主管" in page.inner_text("main")
    assert "已达成" in page.inner_text("table.clocks tbody tr:first-child")
    shot(page, "desk-complaint-escalated-zh-1366")
    # The job page links the complaint back.
    page.click("a:has-text('FA261124-0004')")
    assert "重大投诉" in page.inner_text("#complaints")
    shot(page, "desk-job-with-complaint-zh-1366")
    assert not errors, errors


def test_search_breaches_settings_screens(browser, live_server, demo, clock):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    web_sign_in(page, live_server, "admin")
    page.wait_for_url(live_server + "/dispatch/")
    page.goto(live_server + "/dispatch/jobs?q=139-1234")
    shot(page, "desk-jobs-search-zh-1366")
    assert page.locator("table.list tbody tr").count() == 8  # the demo's 139-1234-…
    # The demo's six visits were agreed on a call; its two unassigned jobs wait for theirs.
    clock.advance(minutes=4)  # 09:04: their first call is due in a minute (amber)
    page.goto(live_server + "/dispatch/breaches")
    assert page.locator(".sla.lvl-warning").count() == 2
    clock.advance(minutes=3)  # 09:07: overdue (red)
    page.goto(live_server + "/dispatch/breaches")
    assert page.locator(".sla.lvl-breached").count() == 2
    shot(page, "desk-breaches-zh-1366")
    clock.advance(hours=5, minutes=20)  # 14:27: the red pills say how late, in full
    page.goto(live_server + "/dispatch/")
    pills = page.eval_on_selector_all(".jcard .sla", "els => els.map(e => [e.innerText, "
                                      "e.scrollWidth <= e.clientWidth, e.closest('.jcard')"
                                      ".getBoundingClientRect().right >= "
                                      "e.getBoundingClientRect().right])")
    assert len([text for text, *_ in pills if "已超时 5 小时 22 分" in text]) == 2, pills
    assert all(fits and inside for _, fits, inside in pills), pills
    # Every card's job reference is shown whole (people read it out on the phone).
    refs = page.eval_on_selector_all(".jcard .ref", "els => els.map(e => [e.innerText, "
                                     "e.scrollWidth <= e.clientWidth])")
    assert refs and all(whole and text.startswith("FA") for text, whole in refs), refs
    page.goto(live_server + "/dispatch/settings")
    shot(page, "desk-settings-zh-1366")
    tap_targets_ok(page)
    page.click("a.lang")
    page.goto(live_server + "/dispatch/")
    shot(page, "desk-board-en-1366")
    assert "Unassigned" in page.inner_text("main")
    assert not errors, errors
    context.close()


def test_a_busy_day_of_200_visits_stays_readable(browser, live_server, app, demo):
    """What a dispatcher sees on a busy day: 200 visits over 12 technicians, a queue."""
    from datetime import date

    from fieldapp.accounts import service as accounts
    from fieldapp.accounts.context import Ctx
    from fieldapp.extensions import db

    with app.app_context():
        ctx = Ctx(session=db.session, clock=app.extensions["fieldapp.clock"])
        names = ["王师傅", "赵师傅", "钱师傅", "孙师傅", "周师傅", "吴师傅", "郑师傅", "冯师傅",
                 "陈师傅", "褚师傅"]
        techs = [demo["tech1"], demo["tech2"]] + [
            accounts.create_user(ctx, f"t{n}", "fieldapp-demo", "technician", name).id
            for n, name in enumerate(names)]
        db.session.commit()
        make_jobs(db.session, 600, today=date(2026, 11, 24), per_day=200,
                  tz=app.extensions["fieldapp.policy"].tz, technician_ids=techs)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    web_sign_in(page, live_server, "dispatcher1")
    page.wait_for_url(live_server + "/dispatch/")
    assert page.locator(".lane-cards .jcard").count() > 200
    page.screenshot(path=shot(page, "desk-board-busy-day-zh-1366-full").replace(
        "-full.png", "-top.png"))  # the first screenful as well as the whole page
    tap_targets_ok(page)
    assert not errors, errors
    context.close()
