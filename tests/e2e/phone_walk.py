"""A whole installation job done offline the way a technician does it with one thumb on a
390x844 touch phone, counting taps and scrolling. Used by tests/e2e/test_pwa_flow.py and
printed by bench/pwa_bench.py.

The walk follows the app's own bottom bar ("the one next step"): it taps what the bar says,
or, for a checklist item the bar points at, taps the answer on the item itself. Before each tap
it swipes just far enough to see the target above the bottom bar, as a person would; that
distance is the technician's scrolling. The app's own scrolling (bringing the next item into
view) is counted apart."""
from __future__ import annotations

PHONE_TOUCH = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
               "device_scale_factor": 2}

# Swipe the least distance that shows the whole target above the bottom bar (or its top, if
# it is taller than the screen); returns how far the page moved.
_SWIPE_TO = """(el) => {
  const bar = document.querySelector('.next-bar:not(.hidden)');
  const bottom = window.innerHeight - (bar && !bar.contains(el) ? bar.getBoundingClientRect().height : 0);
  const box = el.getBoundingClientRect();
  const before = window.scrollY;
  if (box.top < 0) window.scrollBy(0, box.top - 12);
  else if (box.bottom > bottom) window.scrollBy(0, Math.min(box.bottom - bottom + 12, box.top - 12));
  return Math.abs(window.scrollY - before);
}"""

_WATCH_SCROLL = """() => {
  if (window.__scrolled !== undefined) return;
  window.__scrolled = 0; let last = window.scrollY;
  addEventListener('scroll', () => { window.__scrolled += Math.abs(window.scrollY - last); last = window.scrollY; }, { passive: true });
}"""


class Walk:
    def __init__(self, page):
        self.page = page
        self.taps = 0
        self.swiped = 0.0
        self.app_scrolled = 0.0

    def _watch(self):
        self.page.evaluate(_WATCH_SCROLL)

    def swipe_to(self, locator):
        self._watch()
        self.swiped += locator.evaluate(_SWIPE_TO)

    def tap(self, locator):
        self.swipe_to(locator)
        locator.tap()
        self.taps += 1

    def photo(self, locator, path):
        """Tap the camera button and take the photo (the file chooser stands in for the camera)."""
        label = locator.locator("xpath=..")
        self.swipe_to(label)
        locator.set_input_files(path)
        self.taps += 1

    def finish(self):
        # Everything the scroll listener saw besides the swipes was the app's own scrolling.
        total = self.page.evaluate("window.__scrolled || 0")
        self.app_scrolled = max(0.0, total - self.swiped)

    @property
    def all_screens(self) -> float:
        return (self.swiped + self.app_scrolled) / self.page.viewport_size["height"]

    @property
    def screens(self) -> float:
        return self.swiped / self.page.viewport_size["height"]


def draw_signature(page, walk=None, canvas_selector="canvas.signature-pad"):
    canvas = page.wait_for_selector(canvas_selector)
    if walk:
        walk.swipe_to(page.locator(canvas_selector))
    else:
        canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 60)
    page.mouse.down()
    for step in range(30):
        page.mouse.move(x + 30 + step * 9, y + 60 + (step % 7) * 12)
    page.mouse.up()


def do_installation_offline(page, base: str, job_id: str, photo_path: str) -> Walk:
    """From the job list (already signed in, offline) to the done screen. Returns the counts."""
    walk = Walk(page)
    walk._watch()
    walk.tap(page.locator(f"[data-job='{job_id}'] .card-link"))
    page.wait_for_selector(".next-bar [data-next]")
    for _ in range(60):
        step = page.locator(".next-bar [data-next]")
        kind = step.get_attribute("data-next")
        if kind == "move":
            to = step.get_attribute("data-to")
            walk.tap(step)
            page.wait_for_function(
                "(to) => !document.querySelector(`.next-bar [data-to='${to}']`)", arg=to)
        elif kind == "item":
            key = step.get_attribute("data-item-key")
            item = page.locator(f"[data-item='{key}']")
            item_kind = item.get_attribute("data-kind")
            if item_kind in ("check", "choice"):
                walk.tap(item.locator("button.choice").first)
            elif item_kind == "number":
                item.locator("input").fill("1")
                walk.tap(item.locator("button.save"))
            else:
                item.locator("textarea").fill("ok")
                walk.tap(item.locator("button.save"))
            page.wait_for_function(
                "(key) => document.querySelector(`.next-bar [data-item-key='${key}']`) === null", arg=key)
        elif kind == "photo":
            key = step.get_attribute("data-photo-for")
            before = page.locator(f"[data-item='{key}'] img.thumb").count()
            walk.photo(step.locator("input[type=file]"), photo_path)
            page.wait_for_function(
                f"document.querySelectorAll(\"[data-item='{key}'] img.thumb\").length > {before}",
                timeout=30000)
        elif kind in ("sign", "complete"):
            walk.tap(step)
            page.wait_for_selector("canvas.signature-pad, #confirm-complete")
            break
        else:
            raise AssertionError(f"unknown next step {kind}")
    walk._watch()
    if page.locator("canvas.signature-pad").count():
        draw_signature(page, walk)
        walk.tap(page.locator("#sign-complete"))
    else:
        walk.tap(page.locator("#confirm-complete"))
    page.wait_for_selector(".done-moment")
    walk.finish()
    return walk
