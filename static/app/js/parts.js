// Issue 8 on the phone, offline like everything else: request a part, take a product back
// against a signed receipt (the receipt number is made here, offline: the job's ref and a
// per-job counter), and bring it back on the follow-up job (receipt collected, the customer
// signs the repair slip). Each save is one outbox mutation with its images, in one
// IndexedDB transaction (outbox.record).
import { h, toast, mount } from "./views.js";
import { t, formatTime } from "./i18n.js";
import { getJob } from "./storage.js";
import { record } from "./outbox.js";
import { processPhoto } from "./camera.js";
import { loadSignaturePad, mountSignaturePad } from "./signature.js";
import { thumb } from "./checklist.js";

const KINDS = ["replacement", "supplementary"];
const CAUSES = ["missing_in_delivery", "damaged_in_transit", "manufacturing_defect", "installation_damage", "wear", "customer_damage", "other"];
const MAX_PHOTOS = 10;

// Photos taken on a form not saved yet, by job and form: a redraw keeps them.
const drafts = new Map();
function draftPhotos(key) {
  if (!drafts.has(key)) drafts.set(key, []);
  return drafts.get(key);
}

function setTitle(text) { document.getElementById("bar-title").textContent = text; }

function backTo(jobId) {
  return h("a", { href: `#/job/${jobId}`, class: "back button" }, `← ${t("back")}`);
}

export const itemText = (item) => (typeof item === "string" ? item : `${item.name}${item.quantity && item.quantity !== 1 ? ` × ${item.quantity}` : ""}`);

// The next receipt number for a job: its ref and the next per-job counter ("FA…-T2").
export function nextReceiptNo(job) {
  let highest = 0;
  for (const tb of job.takebacks || []) {
    if (tb.job_id && tb.job_id !== job.id) continue;
    const match = /-T(\d+)(?:-|$)/.exec(tb.receipt_no || "");
    highest = Math.max(highest, match ? Number(match[1]) : 0, match ? 0 : 1);
  }
  return `${job.ref}-T${highest + 1}`;
}

// --- on the job screen ------------------------------------------------------------------

// On a follow-up job, the receipt to bring back comes first: it is why the job exists.
export function returnSection(job, closed) {
  const toReturn = (job.takebacks || []).filter((tb) => tb.job_id && tb.job_id !== job.id);
  if (!toReturn.length) return null;
  return h("section", { class: "to-return" }, h("h2", {}, t("tb_to_return")),
      ...toReturn.map((tb) => h("div", { class: "card receipt-card", "data-receipt": tb.receipt_no || tb.receipt_id },
        h("div", { class: "card-head" }, h("strong", { class: "receipt-no" }, tb.receipt_no || "—"),
          h("span", { class: `status tb-${tb.status}` }, t(`tb_status_${tb.status}`))),
        h("p", {}, (tb.items || []).map(itemText).join("、")),
        tb.status === "out" && !closed
          ? h("a", { class: "button big primary", href: `#/job/${job.id}/return/${tb.receipt_id}`, "data-action": "return" }, t("tb_bring_back"))
          : h("p", { class: "muted" }, t("tb_returned_at", { time: formatTime(tb.returned_at, true) })))));
}

export function partsSection(job, closed) {
  const requests = job.parts_requests || [];
  const taken = (job.takebacks || []).filter((tb) => !tb.job_id || tb.job_id === job.id);
  return h("section", { class: "parts-section", id: "parts" },
    h("h2", {}, t("parts_title")),
    requests.length ? h("ul", { class: "parts-list" }, ...requests.map((p) => h("li", { class: "parts-item", "data-request": p.id },
      h("div", { class: "card-head" }, h("strong", {}, `${p.part_name} × ${p.quantity}`),
        h("span", { class: `status parts-${p.status}` }, t(`parts_status_${p.status}`))),
      h("div", { class: "muted" }, `${t(`kind_${p.kind}`)} · ${p.reason}`),
      p.decision_reason ? h("div", {}, `${t("parts_decision_reason")}: ${p.decision_reason}`) : null,
      p.released_at ? h("div", { class: "ok-text" }, t("parts_released")) : null))) : null,
    taken.length ? h("div", {}, h("h3", {}, t("tb_taken_title")),
      ...taken.map((tb) => h("p", { class: "receipt-line", "data-receipt": tb.receipt_no || tb.receipt_id },
        h("strong", { class: "receipt-no" }, tb.receipt_no || "—"), " ",
        h("span", { class: `status tb-${tb.status}` }, t(`tb_status_${tb.status}`)), " ",
        h("span", { class: "muted" }, (tb.items || []).map(itemText).join("、"))))) : null,
    closed ? null : h("div", { class: "parts-actions" },
      h("a", { class: "button big", href: `#/job/${job.id}/part`, "data-action": "request-part" }, t("parts_request")),
      h("a", { class: "button big", href: `#/job/${job.id}/takeback`, "data-action": "takeback" }, t("tb_take_back"))));
}

// --- photos on a form -------------------------------------------------------------------

function photoPicker(key, rerenderThumbs) {
  const photos = draftPhotos(key);
  const strip = h("div", { class: "thumbs draft-thumbs" });
  const draw = () => {
    strip.replaceChildren(...photos.map((p, i) => {
      const img = h("img", { class: "thumb", alt: "", "data-sha256": p.sha256 });
      img.src = URL.createObjectURL(p.blob);
      img.onload = () => URL.revokeObjectURL(img.src);
      return h("div", { class: "draft-photo" }, img,
        h("button", { type: "button", class: "remove-photo", "aria-label": t("photo_remove"), onclick: () => { photos.splice(i, 1); draw(); rerenderThumbs?.(); } }, "✕"));
    }));
    counter.textContent = `${t("take_photo")} (${photos.length})`;
  };
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", class: "visually-hidden", onchange: async (event) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    if (photos.length >= MAX_PHOTOS) { toast(t("photos_max", { n: MAX_PHOTOS }), "error"); return; }
    toast(t("photo_saving"));
    try {
      const photo = await processPhoto(file);
      if (!photos.some((p) => p.sha256 === photo.sha256)) photos.push(photo);
      draw();
      rerenderThumbs?.();
    } catch (_error) {
      toast(t("photo_failed"), "error");
    }
  } });
  const counter = h("span", {});
  const picker = h("div", { class: "photo-picker" }, strip, h("label", { class: "button camera" }, input, counter));
  draw();
  return picker;
}

function showError(box, text) {
  box.textContent = text;
  box.classList.remove("hidden");
  box.scrollIntoView({ block: "center" });
}

function toggleGroup(name, options, current, onPick) {
  let value = current;
  const buttons = options.map(([key, text]) => h("button", { type: "button", class: key === value ? "choice on" : "choice", "data-value": key, "aria-pressed": String(key === value), onclick: () => {
    value = key;
    for (const b of buttons) { const on = b.dataset.value === key; b.classList.toggle("on", on); b.setAttribute("aria-pressed", String(on)); }
    onPick?.(key);
  } }, text));
  const group = h("div", { class: "options", role: "group", "data-group": name }, ...buttons);
  group.value = () => value;
  return group;
}

// --- request a part -------------------------------------------------------------------------

export async function partView(jobId) {
  const job = await getJob(jobId);
  if (!job) { location.hash = "#/"; return; }
  setTitle(t("parts_request"));
  const key = `part:${jobId}`;
  const name = h("input", { name: "part_name", autocomplete: "off", maxlength: 200 });
  const quantity = h("input", { name: "quantity", type: "number", inputmode: "numeric", min: 1, max: 999, value: "1" });
  const hint = h("p", { class: "muted kind-hint" }, t("kind_hint_replacement"));
  const kind = toggleGroup("kind", KINDS.map((k) => [k, t(`kind_${k}`)]), "replacement", (k) => { hint.textContent = t(`kind_hint_${k}`); });
  const cause = h("select", { name: "cause" }, h("option", { value: "" }, t("cause_unknown")), ...CAUSES.map((c) => h("option", { value: c }, t(`cause_${c}`))));
  const reason = h("textarea", { name: "reason", rows: 3, maxlength: 4000, placeholder: t("parts_reason_placeholder") });
  const error = h("p", { class: "alert error hidden", role: "alert" });
  const save = h("button", { type: "button", class: "primary big", id: "save-part", onclick: async () => {
    const qty = Number(quantity.value);
    if (!name.value.trim()) { showError(error, t("part_name_needed")); name.focus(); return; }
    if (!Number.isInteger(qty) || qty < 1 || qty > 999) { showError(error, t("quantity_needed")); quantity.focus(); return; }
    if (!reason.value.trim()) { showError(error, t(kind.value() === "supplementary" ? "reason_needed_supplementary" : "reason_needed")); reason.focus(); return; }
    save.disabled = true;
    const photos = draftPhotos(key);
    const args = { request_id: crypto.randomUUID(), part_name: name.value.trim(), quantity: qty, kind: kind.value(), reason: reason.value.trim() };
    if (cause.value) args.cause = cause.value;
    if (photos.length) args.photo_sha256s = photos.map((p) => p.sha256);
    try {
      await record("parts.request", jobId, args, photos.map((p) => ({ sha256: p.sha256, data: p.blob })));
    } catch (err) {
      save.disabled = false;
      showError(error, err?.name === "QuotaExceededError" ? t("quota_full") : String(err));
      return;
    }
    drafts.delete(key);
    toast(t("parts_saved"));
    location.hash = `#/job/${jobId}`;
  } }, t("parts_send"));
  mount(backTo(jobId), h("h1", {}, t("parts_request")), h("p", { class: "muted" }, `${job.ref} · ${job.product_model}`),
    h("label", {}, t("part_name"), name), h("label", {}, t("quantity"), quantity),
    h("div", { class: "field" }, h("span", { class: "field-label" }, t("parts_kind")), kind, hint),
    h("label", {}, t("parts_reason"), reason), h("label", {}, t("parts_cause"), cause),
    h("div", { class: "field" }, h("span", { class: "field-label" }, t("parts_photos")), photoPicker(key)),
    error, save);
}

// --- take the product back ------------------------------------------------------------------

export async function takebackView(jobId) {
  const [job] = await Promise.all([getJob(jobId), loadSignaturePad()]);
  if (!job) { location.hash = "#/"; return; }
  setTitle(t("tb_take_back"));
  const key = `tb:${jobId}`;
  const receiptNo = nextReceiptNo(job);
  const itemsBox = h("div", { class: "items-box" });
  const addItem = (value = "") => {
    const input = h("input", { name: "item", autocomplete: "off", maxlength: 200, value, placeholder: t("tb_item_placeholder") });
    itemsBox.append(h("div", { class: "item-row" }, input,
      h("button", { type: "button", class: "remove-item", "aria-label": t("tb_item_remove"), onclick: (e) => { e.target.closest(".item-row").remove(); } }, "✕")));
    return input;
  };
  addItem(job.product_model || "");
  const condition = h("textarea", { name: "condition", rows: 3, maxlength: 4000, placeholder: t("tb_condition_placeholder") });
  const signer = h("input", { name: "signer_name", autocomplete: "off", maxlength: 120, value: job.customer?.name || "" });
  const canvas = h("canvas", { class: "signature-pad small", "aria-label": t("tb_customer_signs") });
  const error = h("p", { class: "alert error hidden", role: "alert" });
  const save = h("button", { type: "button", class: "primary big", id: "save-takeback", onclick: async () => {
    const items = [...itemsBox.querySelectorAll("input[name=item]")].map((i) => i.value.trim()).filter(Boolean);
    const photos = draftPhotos(key);
    if (!items.length) { showError(error, t("tb_items_needed")); return; }
    if (!condition.value.trim()) { showError(error, t("tb_condition_needed")); condition.focus(); return; }
    if (!photos.length) { showError(error, t("tb_photo_needed")); return; }
    if (pad.isEmpty()) { showError(error, t("signature_empty")); return; }
    if (!signer.value.trim()) { showError(error, t("signer_needed")); signer.focus(); return; }
    save.disabled = true;
    const png = await pad.toPng();
    const args = { receipt_id: crypto.randomUUID(), receipt_no: receiptNo, items, condition: condition.value.trim(),
      signature_sha256: png.sha256, signer_name: signer.value.trim(), photo_sha256s: photos.map((p) => p.sha256) };
    try {
      await record("takeback.receipt", jobId, args, [{ sha256: png.sha256, data: png.blob }, ...photos.map((p) => ({ sha256: p.sha256, data: p.blob }))]);
    } catch (err) {
      save.disabled = false;
      showError(error, err?.name === "QuotaExceededError" ? t("quota_full") : String(err));
      return;
    }
    drafts.delete(key);
    pad.destroy();
    toast(t("tb_saved", { no: receiptNo }));
    location.hash = `#/job/${jobId}/receipt/${args.receipt_id}`;
  } }, t("tb_save"));
  mount(backTo(jobId), h("h1", {}, t("tb_take_back")),
    h("div", { class: "receipt-banner" }, h("span", {}, t("tb_receipt_no")), h("strong", { class: "receipt-no", id: "receipt-no" }, receiptNo)),
    h("p", { class: "muted" }, t("tb_agree_hint")),
    h("div", { class: "field" }, h("span", { class: "field-label" }, t("tb_items")), itemsBox,
      h("button", { type: "button", class: "add-item", onclick: () => addItem().focus() }, `+ ${t("tb_item_add")}`)),
    h("label", {}, t("tb_condition"), condition),
    h("div", { class: "field" }, h("span", { class: "field-label" }, t("tb_condition_photos")), photoPicker(key)),
    h("h2", {}, t("tb_customer_signs")), h("p", { class: "muted" }, t("tb_sign_hint")), canvas,
    h("button", { type: "button", class: "clear-pad", onclick: () => pad.clear() }, t("clear")),
    h("label", {}, t("signer_name"), signer), error, save);
  const pad = mountSignaturePad(canvas);
}

// The receipt as the customer sees it on the phone, right after signing.
export async function receiptView(jobId, receiptId) {
  const job = await getJob(jobId);
  const tb = job && (job.takebacks || []).find((x) => x.receipt_id === receiptId);
  if (!tb) { location.hash = job ? `#/job/${jobId}` : "#/"; return; }
  setTitle(t("tb_receipt"));
  mount(backTo(jobId), h("section", { class: "card receipt-show" },
    h("p", { class: "muted" }, t("tb_receipt")),
    h("p", { class: "receipt-no big-no", id: "receipt-no" }, tb.receipt_no || "—"),
    h("dl", { class: "facts" },
      h("dt", {}, t("customer")), h("dd", {}, job.customer?.name || "—"),
      h("dt", {}, t("product")), h("dd", {}, job.product_model),
      h("dt", {}, t("tb_items")), h("dd", {}, (tb.items || []).map(itemText).join("、")),
      h("dt", {}, t("tb_condition")), h("dd", {}, tb.condition),
      h("dt", {}, t("tb_taken_at")), h("dd", {}, formatTime(tb.taken_at, true))),
    (tb.photo_sha256s || []).length ? h("div", { class: "thumbs" }, ...tb.photo_sha256s.map((sha) => thumb({ sha256: sha }))) : null,
    h("p", { class: "alert ok" }, t("tb_receipt_promise"))),
    h("a", { class: "button big primary", href: `#/job/${jobId}` }, t("done")));
}

// --- bring it back (on the follow-up job) -----------------------------------------------

export async function returnView(jobId, receiptId) {
  const [job] = await Promise.all([getJob(jobId), loadSignaturePad()]);
  if (!job) { location.hash = "#/"; return; }
  const tb = (job.takebacks || []).find((x) => x.receipt_id === receiptId);
  setTitle(t("tb_bring_back"));
  if (!tb) { mount(backTo(jobId), h("p", { class: "alert warn" }, t("tb_unknown"))); return; }
  if (tb.status === "returned") { mount(backTo(jobId), h("p", { class: "alert warn", id: "already-returned" }, t("tb_already_returned", { no: tb.receipt_no || "" }))); return; }
  const retrieved = toggleGroup("retrieved", [["yes", t("tb_receipt_collected")], ["no", t("tb_receipt_lost")]], "yes", (v) => noteLabel.classList.toggle("hidden", v === "yes"));
  const note = h("textarea", { name: "return_note", rows: 2, maxlength: 2000, placeholder: t("tb_lost_placeholder") });
  const noteLabel = h("label", { class: "hidden" }, t("tb_lost_note"), note);
  const signer = h("input", { name: "signer_name", autocomplete: "off", maxlength: 120, value: job.customer?.name || "" });
  const canvas = h("canvas", { class: "signature-pad small", "aria-label": t("tb_slip_sign") });
  const error = h("p", { class: "alert error hidden", role: "alert" });
  const save = h("button", { type: "button", class: "primary big", id: "save-return", onclick: async () => {
    const collected = retrieved.value() === "yes";
    if (!collected && !note.value.trim()) { showError(error, t("tb_lost_note_needed")); note.focus(); return; }
    if (pad.isEmpty()) { showError(error, t("signature_empty")); return; }
    if (!signer.value.trim()) { showError(error, t("signer_needed")); signer.focus(); return; }
    save.disabled = true;
    const png = await pad.toPng();
    const args = { receipt_id: receiptId, signature_sha256: png.sha256, receipt_retrieved: collected, signer_name: signer.value.trim() };
    if (!collected) args.note = note.value.trim();
    await record("takeback.return", jobId, args, { sha256: png.sha256, data: png.blob });
    pad.destroy();
    toast(t("tb_return_saved"));
    location.hash = `#/job/${jobId}`;
  } }, t("tb_return_save"));
  mount(backTo(jobId), h("h1", {}, t("tb_bring_back")),
    h("div", { class: "receipt-banner" }, h("span", {}, t("tb_receipt_no")), h("strong", { class: "receipt-no" }, tb.receipt_no || "—")),
    h("dl", { class: "facts" },
      h("dt", {}, t("tb_items")), h("dd", {}, (tb.items || []).map(itemText).join("、")),
      h("dt", {}, t("tb_condition")), h("dd", {}, tb.condition || "—"),
      h("dt", {}, t("tb_taken_at")), h("dd", {}, formatTime(tb.taken_at, true))),
    h("div", { class: "field" }, h("span", { class: "field-label" }, t("tb_collect_receipt")), retrieved), noteLabel,
    h("h2", {}, t("tb_slip_sign")), h("p", { class: "muted" }, t("tb_slip_hint")), canvas,
    h("button", { type: "button", class: "clear-pad", onclick: () => pad.clear() }, t("clear")),
    h("label", {}, t("signer_name"), signer), error, save);
  const pad = mountSignaturePad(canvas);
}
