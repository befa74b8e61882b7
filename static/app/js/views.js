// The screens. DOM is built with h() (text nodes only, never HTML strings from data).
import { t, label, statusName, moveName, jobTypeName, changeName, reasonText, formatTime, formatBytes, language, setLanguage, businessTimeZone, countThings, STATEMENT } from "./i18n.js";
import { allJobs, getJob, getTemplate, getMeta, setMeta, unseenNotices, markNoticesSeen, storageEstimate, clearSession } from "./storage.js";
import { record, pendingCount, pending, countByThing, pendingThings } from "./outbox.js";
import { movesFrom, moveRequires, unmetItems, itemDone } from "./local-rules.js";
import { renderChecklist, thumb, nextUnanswered, bringIntoView, photoButton } from "./checklist.js";
import { loadSignaturePad, mountSignaturePad } from "./signature.js";
import { requestSync, state as syncState } from "./sync.js";
import { request, NetworkError } from "./api.js";
import { partsSection, returnSection } from "./parts.js";
import { inboxItems, markRead } from "./inbox.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value") { el.value = value; el.defaultValue = value; }
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(text, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) { box = h("div", { id: "toast", role: "status", "aria-live": "polite" }); (document.getElementById("main") || document.body).append(box); }
  box.className = `toast ${kind}`;
  box.textContent = text;
  clearTimeout(box._timer);
  box._timer = setTimeout(() => { box.className = "toast hidden"; }, 2500);
}

let mountedHash = null;

// Draw a screen. A redraw of the same screen (after a sync round, a status move) keeps the
// technician's place; only a new screen starts at its top.
export function mount(...nodes) {
  const view = document.getElementById("view");
  const sameScreen = mountedHash === location.hash;
  const y = window.scrollY;
  document.querySelectorAll(".preview").forEach((overlay) => overlay.remove());
  view.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
  mountedHash = location.hash;
  window.scrollTo(0, sameScreen ? y : 0);
}

function setTitle(text) { document.getElementById("bar-title").textContent = text; }

// --- sign-in -----------------------------------------------------------------------------

export function signInView(onSignedIn, message = null) {
  setTitle(t("app_name"));
  const error = h("p", { class: message ? "alert error" : "alert error hidden", role: "alert" }, message || "");
  const username = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary big" }, t("sign_in"));
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = t("signing_in");
    try {
      const answer = await request("POST", "/api/v1/auth/login", { auth: false, json: {
        username: username.value.trim(), password: password.value,
        device_name: `${navigator.platform || "phone"} · ${navigator.userAgent.slice(0, 60)}`,
        device_id: (await getMeta("device_id")) || undefined } });
      if (answer.status === 200) { await onSignedIn(answer.data); return; }
      showError(answer.status === 429 ? t("sign_in_throttled") : t("sign_in_failed"));
    } catch (err) {
      showError(err instanceof NetworkError ? t("sign_in_offline") : String(err));
    }
    submit.disabled = false;
    submit.textContent = t("sign_in");
  } },
  h("label", {}, t("username"), username), h("label", {}, t("password"), password), submit);
  function showError(text) { error.textContent = text; error.classList.remove("hidden"); }
  mount(h("div", { class: "narrow" }, h("h1", {}, t("sign_in")), error, form, languageSwitch(() => signInView(onSignedIn, message))));
}

function languageSwitch(rerender) {
  const other = language() === "zh-CN" ? "en" : "zh-CN";
  return h("button", { type: "button", class: "link lang", onclick: async () => {
    setLanguage(other);
    await setMeta("locale", other);
    rerender();
  } }, other === "en" ? "English" : "中文");
}

// --- today's jobs ------------------------------------------------------------------------

// The calendar day in the business's timezone (a phone set to another zone still sees
// "today" as the office means it).
let dayFormat = null;
function localDay(iso) {
  if (!iso) return null;
  // One formatter for all the jobs (making one per job costs seconds with thousands kept).
  if (!dayFormat || dayFormat.resolvedOptions().timeZone !== businessTimeZone()) {
    dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: businessTimeZone(), year: "numeric", month: "2-digit", day: "2-digit" });
  }
  return dayFormat.format(new Date(iso));
}

const FINISHED = ["completed", "approved", "cancelled", "unsuccessful"];
const EARLIER_FINISHED_SHOWN = 10;

export async function jobListView() {
  setTitle(t("app_name"));
  const jobs = (await allJobs()).sort((a, b) => (a.scheduled_start || "").localeCompare(b.scheduled_start || ""));
  const today = localDay(new Date().toISOString());
  const groups = { today: [], upcoming: [], earlier: [] };
  for (const job of jobs) {
    const day = localDay(job.scheduled_start);
    if (day === today) groups.today.push(job);
    else if (day && day > today) groups.upcoming.push(job);
    else groups.earlier.push(job);
  }
  const notices = await unseenNotices();
  const waitingByJob = new Map();
  for (const m of await pending()) waitingByJob.set(m.job_id, [...(waitingByJob.get(m.job_id) || []), m]);
  // Earlier days: what is still open or still being sent, and the last few finished jobs
  // (weeks of finished work stay on the phone but not on this screen).
  const finishedEarlier = groups.earlier.filter((j) => FINISHED.includes(j.status) && !waitingByJob.has(j.id));
  const hidden = new Set(finishedEarlier.slice(0, Math.max(0, finishedEarlier.length - EARLIER_FINISHED_SHOWN)).map((j) => j.id));
  groups.earlier = groups.earlier.filter((j) => !hidden.has(j.id));
  const sections = [];
  if (notices.length) sections.push(noticeList(notices, null, jobListView));
  const messages = await inboxItems();
  if (messages.length) sections.push(inboxList(messages));
  for (const key of ["today", "upcoming", "earlier"]) {
    if (!groups[key].length && key !== "today") continue;
    sections.push(h("h2", { class: "group" }, t(key)));
    if (!groups[key].length) sections.push(h("p", { class: "muted" }, t("no_jobs")));
    sections.push(...groups[key].map((job) => jobCard(job, waitingByJob.get(job.id) || [])));
    if (key === "earlier" && hidden.size) sections.push(h("p", { class: "muted" }, t("older_finished", { n: hidden.size })));
  }
  mount(...sections, h("p", { class: "footer-links" }, h("a", { href: "#/settings", class: "button" }, `${t("settings")}`)));
}

function jobCard(job, waiting) {
  const c = job.customer || {};
  return h("article", { class: `card job-card${job.removed ? " removed" : ""}`, "data-job": job.id },
    h("a", { class: "card-link", href: `#/job/${job.id}` },
      h("div", { class: "card-head" },
        h("strong", { class: "window" }, t("window", { start: formatTime(job.scheduled_start), end: formatTime(job.scheduled_end) })),
        h("span", { class: `status status-${job.status}` }, statusName(job.status))),
      h("div", {}, `${jobTypeName(job.type)} · ${job.ref}`),
      h("div", { class: "product" }, job.product_model),
      h("div", {}, c.name || ""),
      c.address ? h("div", { class: "muted" }, c.address) : null,
      waiting.length ? h("div", { class: "pending-tag" }, t("waiting", { what: countThings(countByThing(waiting)) })) : null),
    h("div", { class: "card-actions" },
      c.phone ? h("a", { class: "button", href: `tel:${c.phone}`, "aria-label": t("call_number", { phone: c.phone }) }, `${t("call")}`) : null,
      c.address ? h("a", { class: "button", href: mapLink(c.address), target: "_blank", rel: "noopener", "aria-label": t("open_map", { address: c.address }) }, `${t("map")}`) : null));
}

function mapLink(address) {
  return `https://uri.amap.com/search?keyword=${encodeURIComponent(address)}`;
}

function noticeList(notices, jobId, rerender) {
  return h("section", { class: "notices" },
    ...notices.map((n) => h("p", { class: `alert ${n.status === "conflict" ? "warn" : "error"}`, "data-notice": n.status },
      n.status === "conflict" ? t("conflict") : refusal(n))),
    h("button", { type: "button", class: "dismiss", onclick: async () => { await markNoticesSeen(jobId); rerender(); } }, t("dismiss")));
}

// Messages from the office, newest first; "got it" hides one at once (told to the server on
// the next sync).
function inboxList(messages) {
  return h("section", { class: "inbox", "aria-label": t("inbox") },
    h("h2", { class: "group" }, t("inbox")),
    ...messages.map((n) => h("article", { class: "card inbox-item", "data-inbox": n.id },
      h("strong", {}, n.subject),
      h("p", { class: "inbox-body" }, n.body),
      h("div", { class: "card-actions" },
        n.job_id ? h("a", { class: "button", href: `#/job/${n.job_id}` }, t("open_job")) : null,
        h("button", { type: "button", class: "dismiss", onclick: async () => { await markRead(n.id); jobListView(); requestSync(); } }, t("got_it"))))));
}

// Why the server refused a change, in its own words (/app/registry.js), which change it was,
// and what the completion rule still misses.
function refusal(notice) {
  const unmet = notice.details?.unmet;
  let reason = reasonText(notice.reason);
  if (unmet?.length) reason = t("still_missing_items", { reason, items: unmet.map((u) => label(u.label)).join(t("list_sep")) });
  return notice.type ? t("rejected_change", { what: changeName(notice.type), reason }) : t("rejected", { reason });
}

// --- one job -----------------------------------------------------------------------------

const CLOSED = ["approved", "cancelled"];
const FORWARD_MOVES = ["en_route", "on_site", "in_progress"];

export async function jobView(jobId) {
  const job = await getJob(jobId);
  const rerender = () => jobView(jobId);
  if (!job) {
    // Taken off this phone (reassigned or cancelled): say so, with what became of our work.
    const notices = (await unseenNotices()).filter((n) => n.job_id === jobId);
    mount(backLink(), h("p", { class: "alert warn" }, notices.length ? t("job_removed") : t("not_found")),
      notices.length ? noticeList(notices, jobId, () => { location.hash = "#/"; }) : null);
    return;
  }
  const template = await getTemplate(job.checklist_template_id);
  setTitle(`${jobTypeName(job.type)} · ${job.ref}`);
  const c = job.customer || {};
  const notices = (await unseenNotices()).filter((n) => n.job_id === jobId);
  const officeNotes = (job.notes || []).filter((n) => n.author_role !== "technician");
  const ownNotes = (job.notes || []).filter((n) => n.author_role === "technician");
  const noteInput = h("textarea", { rows: 3, placeholder: t("note_placeholder"), name: "note", "aria-label": t("notes") });
  const closed = CLOSED.includes(job.status) || job.removed;
  const bar = h("nav", { class: "next-bar", "aria-label": t("next_step") });
  const checklist = renderChecklist(job, template, { onChange: (changed) => drawNextStep(bar, changed, template, checklist, rerender) });
  mount(
    h("div", { class: "job-view has-next-bar" },
      backLink(),
      job.removed ? h("p", { class: "alert warn" }, t("job_removed")) : null,
      notices.length ? noticeList(notices, jobId, rerender) : null,
      h("section", { class: "card" },
        h("div", { class: "card-head" },
          h("strong", {}, t("window", { start: formatTime(job.scheduled_start, true), end: formatTime(job.scheduled_end) })),
          h("span", { class: `status status-${job.status}`, id: "job-status" }, statusName(job.status))),
        h("dl", { class: "facts" },
          h("dt", {}, t("customer")), h("dd", {}, c.name || "—"),
          c.phone ? [h("dt", {}, t("phone")), h("dd", {}, h("a", { class: "button tel", href: `tel:${c.phone}`, "aria-label": t("call_number", { phone: c.phone }) }, c.phone))] : [h("dt", {}, t("phone")), h("dd", { class: "muted" }, t("phone_hidden"))],
          c.address ? [h("dt", {}, t("address")), h("dd", {}, h("a", { class: "button map-link", href: mapLink(c.address), target: "_blank", rel: "noopener" }, c.address))] : null,
          h("dt", {}, t("product")), h("dd", {}, job.product_model),
          h("dt", {}, t("problem")), h("dd", {}, job.problem)),
        job.status === "rework" && job.review?.comment ? h("p", { class: "alert warn" }, `${t("rework_comment")}: ${job.review.comment}`) : null,
        officeNotes.length ? h("div", { class: "office-notes" }, h("h3", {}, t("dispatcher_notes")), ...officeNotes.map((n) => h("p", {}, n.text))) : null),
      returnSection(job, closed),
      statusActions(job, template, rerender),
      h("section", {}, h("h2", {}, t("checklist")), checklist),
      signatureSection(job, closed),
      partsSection(job, closed),
      h("section", { class: "notes" }, h("h2", {}, t("notes")),
        ...ownNotes.map((n) => h("p", { class: "note" }, n.text, h("small", { class: "muted" }, ` ${formatTime(n.created_at, true)}`))),
        closed ? null : [noteInput, h("button", { type: "button", class: "save", onclick: async () => {
          if (!noteInput.value.trim()) { noteInput.focus(); return; }
          await record("job.note", jobId, { text: noteInput.value.trim() });
          rerender();
        } }, t("add_note"))]),
      bar),
  );
  drawNextStep(bar, job, template, checklist, rerender);
}

// The one next step, at the bottom of the screen in thumb reach: the next move, the next
// item, the next photo, the customer's signature, completion.
export function nextStep(job, template) {
  if (job.removed || job.status === "completed" || CLOSED.includes(job.status)) return null;
  if (job.status !== "in_progress") {
    const to = FORWARD_MOVES.find((m) => movesFrom(job.status).includes(m));
    return to ? { kind: "move", to } : null;
  }
  const item = nextUnanswered(job, template);
  if (item) return { kind: item.kind === "photo" ? "photo" : "item", item };
  return (job.signatures || []).length ? { kind: "complete" } : { kind: "sign" };
}

function drawNextStep(bar, job, template, checklist, rerender) {
  const step = nextStep(job, template);
  bar.classList.toggle("hidden", !step);
  document.querySelector(".job-view")?.classList.toggle("has-next-bar", Boolean(step));
  if (!step) { bar.replaceChildren(); return; }
  let action;
  if (step.kind === "move") {
    action = h("button", { type: "button", class: "primary", "data-next": "move", "data-to": step.to, "data-move": step.to, onclick: async () => {
      const requires = moveRequires(job.status, step.to) || [];
      if (requires.includes("reason")) { location.hash = `#/job/${job.id}/reason/${step.to}`; return; }
      await record("job.status", job.id, { status: step.to });
      await rerender();
      if (step.to === "in_progress") {
        const first = nextUnanswered((await getJob(job.id)) || job, template);
        if (first) bringIntoView(first.key);
      }
    } }, moveName(step.to));
  } else if (step.kind === "item") {
    action = h("button", { type: "button", class: "primary", "data-next": "item", "data-item-key": step.item.key, onclick: () => bringIntoView(step.item.key) },
      h("span", { class: "next-text" }, t("next_item", { label: label(step.item.label) })));
  } else if (step.kind === "photo") {
    action = photoButton(job, step.item, h("span", { class: "next-text" }, t("next_photo", { label: label(step.item.label) })), checklist.answered, "button primary");
    action.dataset.next = "photo";
  } else {
    action = h("a", { class: "button primary", href: `#/job/${job.id}/sign`, "data-next": step.kind }, step.kind === "sign" ? t("next_sign") : t("next_complete"));
  }
  bar.replaceChildren(action);
}

function backLink() {
  return h("a", { href: "#/", class: "back button" }, `← ${t("back")}`);
}

function statusActions(job, template, rerender) {
  if (job.removed) return null;
  // The forward move is the bottom bar's; the others (pause, could not complete...) stay here.
  const forward = nextStep(job, template);
  const moves = movesFrom(job.status).filter((to) => !(forward?.kind === "move" && forward.to === to));
  if (!moves.length) return null;
  return h("section", { class: "actions" }, h("h2", {}, t("status_actions")),
    h("div", { class: "move-buttons" }, ...moves.map((to) => h("button", {
      type: "button", class: to === "unsuccessful" ? "move danger" : "move primary", "data-move": to,
      onclick: async () => {
        if (to === "completed") { location.hash = `#/job/${job.id}/sign`; return; }
        const requires = moveRequires(job.status, to) || [];
        if (requires.includes("reason")) { location.hash = `#/job/${job.id}/reason/${to}`; return; }
        await record("job.status", job.id, { status: to });
        rerender();
      } }, moveName(to)))));
}

// After signing, the signature is shown, not the button.
function signatureSection(job, closed) {
  const signatures = job.signatures || [];
  return h("section", { class: "signature-section" }, h("h2", {}, t("signature")),
    ...signatures.map((s) => h("div", { class: "signed" }, thumb(s), h("p", {}, t("signature_saved", { name: s.signer_name, relation: s.signer_relation })))),
    closed || signatures.length ? null : h("a", { class: "button big", href: `#/job/${job.id}/sign` }, `${t("sign_here")}`));
}

export async function reasonView(jobId, to) {
  const job = await getJob(jobId);
  if (!job) { location.hash = "#/"; return; }
  const input = h("textarea", { rows: 4, name: "reason", required: true });
  const error = h("p", { class: "alert error hidden" }, t("reason_needed"));
  mount(h("a", { href: `#/job/${jobId}`, class: "back button" }, `← ${t("back")}`),
    h("h2", {}, moveName(to)), h("label", {}, t("reason"), input), error,
    h("button", { type: "button", class: "primary big", onclick: async () => {
      if (!input.value.trim()) { error.classList.remove("hidden"); input.focus(); return; }
      await record("job.status", jobId, { status: to, reason: input.value.trim() });
      location.hash = `#/job/${jobId}`;
    } }, moveName(to)));
}

// Sign-off: what was done, the statement the customer agrees to (both languages), the
// signature and the signer; signing completes the job when everything else is done.
export async function signOffView(jobId) {
  const [job] = await Promise.all([getJob(jobId), loadSignaturePad()]);
  if (!job) { location.hash = "#/"; return; }
  const template = await getTemplate(job.checklist_template_id);
  setTitle(`${t("sign_off_title")} · ${job.ref}`);
  const items = template?.items || [];
  const unmet = unmetItems(job, template).filter((u) => u.kind !== "signature");
  const signature = (job.signatures || []).at(-1);
  const canComplete = job.status === "in_progress" && !unmet.length;
  const closed = CLOSED.includes(job.status) || job.removed;
  const required = items.filter((i) => i.required);
  const photos = job.photos || [];
  const parts = job.parts_requests || [];
  const takebacks = (job.takebacks || []).filter((tb) => !tb.job_id || tb.job_id === job.id);
  const other = language() === "zh-CN" ? "en" : "zh-CN";
  const error = h("p", { class: "alert error hidden", role: "alert" });

  const summary = h("section", { class: "card sign-summary" }, h("h2", {}, t("summary")),
    h("ul", { class: "summary-list" },
      h("li", { "data-summary": "items" }, t("summary_items", { done: items.filter((i) => itemDone(job, i)).length, total: items.length,
        rdone: required.filter((i) => itemDone(job, i)).length, rtotal: required.length })),
      h("li", { "data-summary": "photos" }, t("summary_photos", { n: photos.length })),
      h("li", { "data-summary": "parts" }, t("summary_parts", { n: parts.length }),
        parts.length ? `：${parts.map((p) => `${p.part_name} × ${p.quantity}`).join(t("list_sep"))}` : ""),
      h("li", { "data-summary": "takebacks" }, t("summary_takebacks", { n: takebacks.length }),
        takebacks.length ? `：${takebacks.map((tb) => tb.receipt_no || "—").join(t("list_sep"))}` : "")),
    photos.length ? h("div", { class: "thumbs small-thumbs" }, ...photos.slice(0, 8).map((p) => thumb(p))) : null);

  const missing = job.status === "in_progress" && unmet.length
    ? h("div", { class: "alert warn missing" }, h("p", {}, t("still_missing")),
      h("ul", {}, ...unmet.map((u) => h("li", { "data-unmet": u.key },
        h("a", { class: "button unmet-link", href: `#/job/${jobId}/item/${encodeURIComponent(u.key)}` }, label(u.label),
          u.kind === "photo" ? ` (${t("photos_count", { have: u.have, need: u.need })})` : "")))))
    : null;

  const statement = h("section", { class: "statement" }, h("h2", {}, t("statement_title")),
    h("p", { lang: language(), class: "statement-main" }, STATEMENT[language()]),
    h("p", { lang: other, class: "statement-other" }, STATEMENT[other]));

  const complete = async () => {
    await record("job.status", jobId, { status: "completed" });
    location.hash = `#/job/${jobId}/done`;
  };

  let signing = null;
  let pad = null;
  if (signature) {
    signing = h("section", { class: "signed-block" }, h("h2", {}, t("signed_title")),
      h("div", { class: "signed" }, thumb(signature), h("p", {}, t("signature_saved", { name: signature.signer_name, relation: signature.signer_relation }))),
      closed || job.status === "completed" ? null : h("button", { type: "button", class: "primary big", id: "confirm-complete", disabled: !canComplete, onclick: complete }, t("confirm_complete")));
  } else if (!closed) {
    const canvas = h("canvas", { class: "signature-pad small", role: "img", "aria-label": t("sign_here") });
    const name = h("input", { name: "signer_name", autocomplete: "off", value: job.customer?.name || "" });
    const relation = h("select", { name: "signer_relation" },
      ...["self", "family", "other"].map((r) => h("option", { value: t(`relation_${r}`) }, t(`relation_${r}`))));
    const showError = (text) => { error.textContent = text; error.classList.remove("hidden"); };
    signing = h("section", { class: "signing" }, h("h2", {}, t("sign_here")), canvas,
      h("button", { type: "button", class: "clear-pad", onclick: () => pad.clear() }, t("clear")),
      h("div", { class: "row signer" }, h("label", {}, t("signer_name"), name), h("label", {}, t("signer_relation"), relation)), error,
      h("button", { type: "button", class: "primary big", id: canComplete ? "sign-complete" : "save-signature", onclick: async (event) => {
        if (pad.isEmpty()) { showError(t("signature_empty")); return; }
        if (!name.value.trim() || !relation.value) { showError(t("signer_needed")); return; }
        event.currentTarget.disabled = true;
        const png = await pad.toPng();
        await record("signature.capture", jobId, { signature_id: crypto.randomUUID(), sha256: png.sha256, signer_name: name.value.trim(), signer_relation: relation.value }, { sha256: png.sha256, data: png.blob });
        pad.destroy();
        if (canComplete) { await complete(); return; }
        location.hash = `#/job/${jobId}`;
      } }, canComplete ? t("sign_and_complete") : t("save_signature")));
  }
  mount(h("a", { href: `#/job/${jobId}`, class: "back button" }, `← ${t("back")}`),
    h("h2", { class: "screen-title" }, t("sign_off_title")),
    missing, summary, statement, signing);
  if (signing?.querySelector("canvas")) pad = mountSignaturePad(signing.querySelector("canvas"));
}

// The moment after completion: done, and what is still waiting to be sent (live).
export async function doneView(jobId) {
  const job = await getJob(jobId);
  if (!job) { location.hash = "#/"; return; }
  setTitle(`${jobTypeName(job.type)} · ${job.ref}`);
  const waiting = h("p", { id: "done-waiting", "data-live-job": jobId, role: "status" });
  mount(h("section", { class: "done-moment" },
    h("div", { class: "done-check", "aria-hidden": "true" }, "✓"),
    h("h2", {}, t("done_title")),
    h("p", { class: "done-job" }, `${job.ref} · ${job.customer?.name || ""}`),
    h("span", { class: `status status-${job.status}`, id: "job-status" }, statusName(job.status)),
    waiting),
  h("a", { class: "button big primary", href: "#/", "data-action": "back-to-jobs" }, t("back_to_jobs")),
  h("a", { class: "button big", href: `#/job/${jobId}` }, t("open_job")));
  await refreshLiveWaiting();
}

// Every "still waiting" line on screen, from the outbox now.
export async function refreshLiveWaiting() {
  for (const el of document.querySelectorAll("[data-live-job]")) {
    const what = countThings(await pendingThings(el.dataset.liveJob));
    el.textContent = what ? t("done_waiting", { what }) : t("done_all_sent");
    el.className = what ? "alert warn" : "alert ok";
    el.dataset.waiting = what ? "yes" : "no";
  }
}

// --- settings ------------------------------------------------------------------------------

export async function settingsView(onSignOut) {
  setTitle(t("settings"));
  const estimate = await storageEstimate();
  const user = await getMeta("user");
  mount(backLink(),
    h("h1", {}, t("settings")),
    user ? h("p", {}, `${user.display_name} (${user.username})`) : null,
    h("h2", {}, t("language")), languageSwitch(() => settingsView(onSignOut)),
    h("h2", {}, t("storage")),
    estimate ? h("p", {}, t("storage_used", { used: formatBytes(estimate.usage), quota: formatBytes(estimate.quota) })) : null,
    estimate ? h("p", { class: "muted" }, estimate.persisted ? t("storage_persisted") : t("storage_not_persisted")) : null,
    h("p", { class: "muted" }, `${t("device")}: ${(await getMeta("device_id")) || "—"}`),
    h("button", { type: "button", class: "big", onclick: () => requestSync() }, t("sync_now")),
    h("button", { type: "button", class: "big danger", onclick: async () => {
      const n = await pendingCount();
      if (n && !confirm(t("sign_out_pending", { n }))) return;
      await request("POST", "/api/v1/auth/logout").catch(() => null);
      await clearSession();
      onSignOut();
    } }, t("sign_out")));
}

// The sync badge in the header, on every screen: what is waiting, as a person counts it
// (2 photos, 1 signature, 5 answers), or a clear "all sent".
export function renderBadge(state) {
  const badge = document.getElementById("sync-badge");
  if (!badge) return;
  const what = state.pending ? (countThings(state.things || {}) || t("pending", { n: state.pending })) : "";
  const waiting = what ? t("waiting", { what }) : "";
  let text;
  let kind;
  if (!navigator.onLine || state.online === false) { text = [t("offline"), waiting || t("all_sent")].join(" · "); kind = "offline"; }
  else if (state.running) { text = [t("syncing"), waiting].filter(Boolean).join(" · "); kind = "busy"; }
  else if (state.error) { text = [t("sync_error"), waiting].filter(Boolean).join(" · "); kind = "error"; }
  else { text = waiting || (state.lastSynced ? t("all_sent_at", { time: formatTime(state.lastSynced) }) : t("never_synced")); kind = "ok"; }
  badge.textContent = text;
  badge.dataset.state = kind;
  badge.dataset.pending = String(state.pending || 0);
  refreshLiveWaiting();
}

export { syncState };
