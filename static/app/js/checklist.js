// The on-site checklist, by phase, each item recorded as a mutation the moment it is answered.
import { h, toast } from "./views.js";
import { t, label } from "./i18n.js";
import { phases } from "./local-rules.js";
import { record } from "./outbox.js";
import { processPhoto, position } from "./camera.js";
import { getBlob } from "./storage.js";
import { fetchBlob } from "./api.js";

export function renderChecklist(job, template, rerender) {
  if (!template) return h("p", { class: "muted" }, "…");
  const closed = ["approved", "cancelled"].includes(job.status) || job.removed;
  const sections = [];
  for (const phase of phases()) {
    const items = template.items.filter((i) => i.phase === phase.key);
    if (!items.length) continue;
    sections.push(h("section", { class: "phase", "data-phase": phase.key },
      h("h3", {}, label(phase.label)),
      ...items.map((item) => renderItem(job, item, closed, rerender))));
  }
  return h("div", { class: "checklist" }, ...sections);
}

function itemHead(item, done) {
  return h("div", { class: "item-head" },
    h("span", { class: "item-label" }, label(item.label)),
    item.required ? h("span", { class: done ? "req done" : "req" }, done ? "✓" : t("required")) : null);
}

function renderItem(job, item, closed, rerender) {
  const answer = job.answers?.[item.key];
  const value = answer?.value;
  const save = async (newValue) => {
    await record("checklist.answer", job.id, { item_key: item.key, value: newValue });
    rerender();
  };
  const attrs = { class: "item", "data-item": item.key, "data-kind": item.kind };
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
    const input = item.kind === "text"
      ? h("textarea", { rows: 3, placeholder: t("text_placeholder"), disabled: closed }, value ?? "")
      : h("input", { type: "number", inputmode: "decimal", placeholder: t("number_placeholder"), value: value ?? "", disabled: closed });
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
    const fileInput = h("input", { type: "file", accept: "image/*", capture: "environment", class: "visually-hidden", disabled: closed,
      onchange: async (event) => {
        const file = event.target.files?.[0];
        event.target.value = "";
        if (!file) return;
        await addPhoto(job, item.key, file);
        rerender();
      } });
    return h("div", attrs, itemHead(item, photos.length >= need),
      h("div", { class: "thumbs" }, ...photos.map((p) => thumb(p))),
      h("label", { class: closed ? "button disabled" : "button camera" }, fileInput, `${t("take_photo")} (${t("photos_count", { have: photos.length, need })})`));
  }
  return h("div", attrs, itemHead(item, false));
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

export function thumb(photo) {
  const img = h("img", { class: "thumb", alt: "", "data-sha256": photo.sha256 });
  getBlob(photo.sha256).then((blob) => blob || fetchBlob(photo.sha256)).then((blob) => {
    if (blob) {
      img.src = URL.createObjectURL(blob);
      img.onload = () => URL.revokeObjectURL(img.src);
    }
  });
  return img;
}
