// The on-site checklist, by phase, each item recorded as a mutation the moment it is answered.
// An answer updates that item and the progress counts in place (the page never jumps back to
// the top), a phase folds away when its required items are done, and the next unanswered
// item comes into view by itself.
import { h, toast } from "./views.js";
import { t, label } from "./i18n.js";
import { phases, itemDone } from "./local-rules.js";
import { record } from "./outbox.js";
import { processPhoto, position } from "./camera.js";
import { getBlob, getJob } from "./storage.js";
import { fetchBlob } from "./api.js";

// Phases opened or closed by hand, per job and phase: a redraw after a sync keeps them so.
const phaseOpen = new Map();

const isClosed = (job) => ["approved", "cancelled"].includes(job.status) || job.removed;
// Photos may be taken back only until the job is completed (photo.remove).
const photosFinal = (job) => ["completed", "approved", "cancelled"].includes(job.status) || job.removed;

export function progress(job, items) {
  const required = items.filter((i) => i.required);
  return {
    required: required.length, requiredDone: required.filter((i) => itemDone(job, i)).length,
    total: items.length, done: items.filter((i) => itemDone(job, i)).length,
  };
}

function countText(p) {
  return p.required ? t("required_progress", { done: p.requiredDone, total: p.required })
    : t("optional_progress", { done: p.done, total: p.total });
}

// A phase with no required items counts as done: it starts folded (its count still shows).
const phaseDone = (p) => p.requiredDone === p.required;

// The first required item not done, after `afterKey` in the template's order; with `wrap`,
// then from the top (the bottom bar wraps; an answer only ever moves the page forward).
export function nextUnanswered(job, template, afterKey = null, wrap = true) {
  const all = orderedItems(template);
  const open = (i) => i.required && !itemDone(job, i);
  const start = afterKey ? all.findIndex((i) => i.key === afterKey) : -1;
  return all.slice(start + 1).find(open) || (wrap ? all.find(open) : null) || null;
}

function orderedItems(template) {
  if (!template) return [];
  const order = phases().map((p) => p.key);
  return order.flatMap((key) => template.items.filter((i) => i.phase === key));
}

// Scroll an item into the middle of the screen, unless all of it is already in sight above
// the bottom bar.
export function bringIntoView(key) {
  const el = document.querySelector(`[data-item="${CSS.escape(key)}"]`);
  if (!el) return;
  const details = el.closest("details");
  if (details && !details.open) details.open = true;
  const box = el.getBoundingClientRect();
  const bar = document.querySelector(".next-bar");
  const bottom = window.innerHeight - (bar ? bar.getBoundingClientRect().height : 0);
  const header = 8;
  if (box.top >= header && box.bottom <= bottom) return;
  const reduce = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
  const target = window.scrollY + box.top - Math.max(header, (bottom - box.height) / 2);
  window.scrollTo({ top: Math.max(0, target), behavior: reduce ? "auto" : "smooth" });
}

export function renderChecklist(job, template, { onChange } = {}) {
  if (!template) return h("p", { class: "muted" }, "…");
  let current = job;
  const items = orderedItems(template);
  const overall = h("p", { class: "job-progress", "data-progress": "job" });
  const bar = h("span", { class: "progress-fill" });
  const meter = h("div", { class: "progress", "aria-hidden": "true" }, bar);
  const phaseViews = new Map();

  const drawProgress = () => {
    const p = progress(current, items);
    overall.textContent = t("required_progress", { done: p.requiredDone, total: p.required });
    bar.style.width = `${p.required ? Math.round((100 * p.requiredDone) / p.required) : 100}%`;
    for (const [key, view] of phaseViews) {
      const pp = progress(current, view.items);
      view.count.textContent = countText(pp);
      view.count.classList.toggle("done", pp.required > 0 && phaseDone(pp));
      view.count.classList.toggle("optional", pp.required === 0);
    }
  };

  // After an answer: this item and the counts redrawn in place, its phase folded away if that
  // answer finished it, the next item brought into view.
  const answered = async (item) => {
    const view = phaseViews.get(item.phase);
    const wasDone = view ? phaseDone(progress(current, view.items)) : false;
    current = (await getJob(current.id)) || current;
    const old = document.querySelector(`[data-item="${CSS.escape(item.key)}"]`);
    if (old) old.replaceWith(renderItem(item));
    drawProgress();
    if (view && !wasDone && phaseDone(progress(current, view.items)) && view.items.some((i) => i.required)) {
      view.details.open = false;
      phaseOpen.set(`${current.id}:${item.phase}`, false);
    }
    onChange?.(current);
    const next = nextUnanswered(current, template, item.key, false);
    if (next) bringIntoView(next.key);
  };

  const renderItem = (item) => itemView(current, item, answered);

  const sections = [];
  for (const phase of phases()) {
    const phaseItems = items.filter((i) => i.phase === phase.key);
    if (!phaseItems.length) continue;
    const count = h("span", { class: "phase-count" });
    const remembered = phaseOpen.get(`${job.id}:${phase.key}`);
    const open = remembered ?? !phaseDone(progress(job, phaseItems));
    const details = h("details", { class: "phase", "data-phase": phase.key, open },
      h("summary", {}, h("span", { class: "phase-label" }, label(phase.label)), count),
      ...phaseItems.map(renderItem));
    details.addEventListener("toggle", () => phaseOpen.set(`${job.id}:${phase.key}`, details.open));
    phaseViews.set(phase.key, { details, count, items: phaseItems });
    sections.push(details);
  }
  const root = h("div", { class: "checklist" }, h("div", { class: "progress-line" }, overall, meter), ...sections);
  root.answered = answered;  // the bottom bar's "take photo" records through the same path
  drawProgress();
  return root;
}

function itemHead(item, done) {
  return h("div", { class: "item-head" },
    h("span", { class: "item-label" }, label(item.label)),
    item.required ? h("span", { class: done ? "req done" : "req" }, done ? "✓" : t("required")) : null);
}

function itemView(job, item, answered) {
  const answer = job.answers?.[item.key];
  const value = answer?.value;
  const closed = isClosed(job);
  const save = async (newValue) => {
    await record("checklist.answer", job.id, { item_key: item.key, value: newValue });
    await answered(item);
  };
  const attrs = { class: itemDone(job, item) ? "item done" : "item", "data-item": item.key, "data-kind": item.kind };
  if (item.kind === "check") {
    return h("div", attrs, itemHead(item, value === true),
      h("div", { class: "yesno" },
        h("button", { type: "button", class: value === true ? "choice on" : "choice", disabled: closed, "aria-pressed": String(value === true), onclick: () => save(true) }, t("yes")),
        h("button", { type: "button", class: value === false ? "choice on no" : "choice", disabled: closed, "aria-pressed": String(value === false), onclick: () => save(false) }, t("no"))));
  }
  if (item.kind === "choice") {
    return h("div", attrs, itemHead(item, value !== undefined && value !== null),
      h("div", { class: "options" }, ...(item.options || []).map((o) =>
        h("button", { type: "button", class: value === o.value ? "choice on" : "choice", disabled: closed, "data-value": o.value, "aria-pressed": String(value === o.value), onclick: () => save(o.value) }, label(o.label)))));
  }
  if (item.kind === "text" || item.kind === "number") {
    const name = `item-${item.key}`;
    const input = item.kind === "text"
      ? h("textarea", { rows: 3, placeholder: t("text_placeholder"), disabled: closed, "aria-label": label(item.label), name }, value ?? "")
      : h("input", { type: "number", inputmode: "decimal", placeholder: t("number_placeholder"), value: value ?? "", disabled: closed, "aria-label": label(item.label), name });
    const saveButton = h("button", { type: "button", class: "save", disabled: closed, onclick: async () => {
      const raw = input.value;
      if (item.kind === "number") {
        const n = Number(raw);
        if (raw === "" || !Number.isFinite(n)) { input.focus(); return; }
        await save(n);
      } else {
        if (!raw.trim()) { input.focus(); return; }
        await save(raw.trim());
      }
      toast(t("item_answered"));
    } }, t("save"));
    const done = item.kind === "text" ? typeof value === "string" && value.trim() !== "" : typeof value === "number";
    return h("div", attrs, itemHead(item, done), input, saveButton);
  }
  if (item.kind === "photo") {
    const photos = (job.photos || []).filter((p) => p.item_key === item.key);
    const need = item.min_photos || 1;
    const final = photosFinal(job);
    return h("div", attrs, itemHead(item, photos.length >= need),
      h("div", { class: "thumbs" }, ...photos.map((p, i) => h("button", {
        type: "button", class: "thumb-button", "aria-label": t("photo_view", { n: i + 1 }),
        onclick: (event) => openPreview(job, item, p, i, event.currentTarget, answered) }, thumb(p)))),
      final ? null : photoButton(job, item, `${t("take_photo")} (${t("photos_count", { have: photos.length, need })})`, answered, "button camera"));
  }
  return h("div", attrs, itemHead(item, false));
}

// A label wrapping a hidden file input: one tap opens the camera, the photo is kept for the item.
export function photoButton(job, item, text, answered, className = "button camera", replacing = null) {
  const fileInput = h("input", { type: "file", accept: "image/*", capture: "environment", class: "visually-hidden", tabindex: "-1",
    onchange: async (event) => {
      const file = event.target.files?.[0];
      event.target.value = "";
      if (!file) return;
      const saved = await addPhoto(job, item.key, file, label(item.label));
      if (saved && replacing) await record("photo.remove", job.id, { photo_id: replacing.id });
      if (saved) toast(t("item_answered"));
      await answered(item);
    } });
  return h("label", { class: className, "data-photo-for": item.key }, fileInput, text);
}

export async function addPhoto(job, itemKey, file, caption = null) {
  toast(t("photo_saving"));
  let photo;
  try {
    photo = await processPhoto(file);
  } catch (_error) {
    toast(t("photo_failed"), "error");
    return null;
  }
  const where = await position();
  const args = { photo_id: crypto.randomUUID(), sha256: photo.sha256, item_key: itemKey, caption, taken_at: photo.taken_at };
  if (where) Object.assign(args, where);
  try {
    return await record("photo.attach", job.id, args, { sha256: photo.sha256, data: photo.blob });
  } catch (error) {
    toast(error?.name === "QuotaExceededError" ? t("quota_full") : t("photo_failed"), "error");
    return null;
  }
}

// The photo full screen, with delete and retake until the job is completed.
function openPreview(job, item, photo, index, opener, answered) {
  const title = t("photo_title", { label: label(item.label), n: index + 1 });
  const close = () => { overlay.remove(); document.removeEventListener("keydown", onKey); opener?.focus({ preventScroll: true }); };
  const onKey = (event) => { if (event.key === "Escape") close(); };
  const closeButton = h("button", { type: "button", class: "primary", "data-action": "close-preview", onclick: close }, t("close"));
  const actions = photosFinal(job) ? null : h("div", { class: "preview-actions" },
    h("button", { type: "button", class: "danger", "data-action": "delete-photo", onclick: async () => {
      await record("photo.remove", job.id, { photo_id: photo.id });
      close();
      toast(t("photo_deleted"));
      await answered(item);
    } }, t("photo_delete")),
    photoButton(job, item, t("photo_retake"), async (changed) => { close(); await answered(changed); }, "button", photo));
  const overlay = h("div", { class: "preview", role: "dialog", "aria-modal": "true", "aria-label": title },
    h("div", { class: "preview-head" }, h("h2", {}, title), closeButton),
    h("div", { class: "preview-image" }, thumb(photo, "full")),
    actions);
  (document.getElementById("main") || document.body).append(overlay);
  document.addEventListener("keydown", onKey);
  closeButton.focus();
}

export function thumb(photo, size = "thumb") {
  const img = h("img", { class: size, alt: "", "data-sha256": photo.sha256 });
  getBlob(photo.sha256).then((blob) => blob || fetchBlob(photo.sha256)).then((blob) => {
    if (blob) {
      img.src = URL.createObjectURL(blob);
      img.onload = () => URL.revokeObjectURL(img.src);
    }
  });
  return img;
}
