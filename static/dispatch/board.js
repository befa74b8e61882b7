// The board: pick a job (click, Enter, or drag it onto a technician's lane), change it in the
// side panel, and keep the board fresh by itself (every 30 s, only when something changed).
const POLL_MS = 30000;

const panel = document.getElementById("panel");
const live = document.getElementById("board-live");
const refreshed = document.getElementById("refreshed");
const scheduleForm = document.getElementById("schedule-form");
const cancelForm = document.getElementById("cancel-form");
const panelJob = document.getElementById("panel-job");
const openLink = document.getElementById("panel-open");
let selected = null; // job id
let dragging = null; // job id while a card is dragged

function field(form, name) {
  return form.querySelector(`[name="${name}"]`);
}

function setEnabled(on) {
  for (const form of [scheduleForm, cancelForm]) {
    for (const el of form.querySelectorAll("input:not([type=hidden]), select, button")) {
      el.disabled = !on;
    }
  }
}

function cardFor(jobId) {
  return live.querySelector(`.jcard[data-job="${CSS.escape(jobId)}"]`);
}

function select(card, techOverride) {
  for (const other of live.querySelectorAll(".jcard.selected")) other.classList.remove("selected");
  card.classList.add("selected");
  selected = card.dataset.job;
  panelJob.textContent = card.dataset.summary;
  panelJob.classList.add("chosen");
  scheduleForm.action = card.dataset.scheduleUrl;
  cancelForm.action = card.dataset.cancelUrl;
  openLink.href = card.dataset.url;
  setEnabled(true);
  field(scheduleForm, "technician_id").value = techOverride ?? card.dataset.tech;
  field(scheduleForm, "day").value = card.dataset.day;
  field(scheduleForm, "start").value = card.dataset.start;
  field(scheduleForm, "end").value = card.dataset.end;
  field(cancelForm, "reason").value = "";
  // Cancelling a job under way is deliberate: the override is asked for (and required).
  const override = field(cancelForm, "override");
  document.getElementById("cancel-override").hidden = !card.dataset.underWay;
  override.checked = false;
  override.required = Boolean(card.dataset.underWay);
  const tech = field(scheduleForm, "technician_id");
  if (techOverride !== undefined) {
    // Dropped on a lane: a start time is all that may be missing; then one click saves.
    const start = field(scheduleForm, "start");
    (start.value ? scheduleForm.querySelector("button[type=submit]") : start).focus();
  } else {
    tech.focus();
  }
}

live.addEventListener("click", (event) => {
  if (event.target.closest("a")) return; // the reference opens the job page
  const card = event.target.closest(".jcard");
  if (card) select(card);
});

live.addEventListener("keydown", (event) => {
  const card = event.target.closest(".jcard");
  if (card && (event.key === "Enter" || event.key === " ") && !event.target.closest("a")) {
    event.preventDefault();
    select(card);
  }
});

// Drag a card onto a lane: the panel fills in with that technician (or unassigned).
live.addEventListener("dragstart", (event) => {
  const card = event.target.closest(".jcard");
  if (!card) return;
  dragging = card.dataset.job;
  card.classList.add("dragging");
  event.dataTransfer.setData("text/plain", card.dataset.job);
  event.dataTransfer.effectAllowed = "move";
});
live.addEventListener("dragend", (event) => {
  const card = event.target.closest(".jcard");
  if (card) card.classList.remove("dragging");
  dragging = null;
  for (const lane of live.querySelectorAll(".drop-over")) lane.classList.remove("drop-over");
});
live.addEventListener("dragover", (event) => {
  const lane = event.target.closest(".lane.drop");
  if (!lane || !dragging) return;
  event.preventDefault();
  for (const other of live.querySelectorAll(".drop-over")) if (other !== lane) other.classList.remove("drop-over");
  lane.classList.add("drop-over");
});
live.addEventListener("drop", (event) => {
  const lane = event.target.closest(".lane.drop");
  if (!lane) return;
  event.preventDefault();
  lane.classList.remove("drop-over");
  const card = cardFor(event.dataTransfer.getData("text/plain"));
  if (card) select(card, lane.dataset.tech);
});

// --- refreshing by itself ------------------------------------------------------------------

function busy() {
  // Never swap the board under a dispatcher who is dragging or typing in the panel.
  return dragging !== null || panel.contains(document.activeElement) &&
    document.activeElement.matches("input, select, textarea");
}

async function refresh() {
  if (document.hidden || busy()) return;
  try {
    const answer = await fetch(refreshed.dataset.stampUrl, {credentials: "same-origin",
      headers: {Accept: "application/json"}});
    if (!answer.ok) return;
    const {stamp} = await answer.json();
    if (stamp === refreshed.dataset.stamp) return;
    const page = await fetch(location.href, {credentials: "same-origin"});
    if (!page.ok || busy()) return;
    const doc = new DOMParser().parseFromString(await page.text(), "text/html");
    const fresh = doc.getElementById("board-live");
    const freshStamp = doc.getElementById("refreshed");
    if (!fresh || !freshStamp) return;
    live.replaceChildren(...fresh.childNodes);
    refreshed.dataset.stamp = freshStamp.dataset.stamp;
    refreshed.textContent = `${refreshed.dataset.label || refreshed.textContent.split(" · ")[0]} · ${new Date().toLocaleTimeString()}`;
    if (selected) {
      const card = cardFor(selected);
      if (card) card.classList.add("selected");
    }
  } catch (error) {
    // Offline for a moment: try again at the next tick.
  }
}

refreshed.dataset.label = refreshed.textContent.trim();
setInterval(refresh, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
