// What a mutation does to the phone's copy of a job, so the technician sees their work at once.
// The server stays the judge: after each pull the job is replaced by the server's copy and
// the mutations still pending are applied on top again (a rebase).
let rules = { technician_moves: {}, phases: [] };

export function setRules(value) { if (value) rules = value; }
export const phases = () => rules.phases || [];

// The moves the technician may offer from a status, as the server's state machine says.
export function movesFrom(status) {
  return (rules.technician_moves[status] || []).map((m) => m.to);
}

export function moveRequires(from, to) {
  const move = (rules.technician_moves[from] || []).find((m) => m.to === to);
  return move ? move.requires : null;
}

// What each kind of change does to the phone's copy of its job, as the server's `apply` does,
// keyed by the mutation type's name in the server's registry (/app/registry.js; a test keeps
// these keys registered and every type the phone records here). A type with no entry changes
// nothing locally; the server's copy after the next pull shows its effect.
const EFFECTS = {
  "job.status": (next, args) => {
    next.status = args.status;
    if (args.reason) next.status_reason = args.reason;
  },
  "checklist.answer": (next, args) => {
    next.answers = { ...(next.answers || {}), [args.item_key]: { value: args.value, note: args.note ?? null, local: true } };
  },
  "job.note": (next, args, mutation) => {
    next.notes = [...(next.notes || []), { id: mutation.id, text: args.text, author_role: "technician", created_at: mutation.at, local: true }];
  },
  "photo.attach": (next, args) => {
    if (!(next.photos || []).some((p) => p.id === args.photo_id)) {
      next.photos = [...(next.photos || []), { id: args.photo_id, sha256: args.sha256, item_key: args.item_key ?? null, caption: args.caption ?? null, taken_at: args.taken_at ?? null, local: true }];
    }
  },
  "photo.remove": (next, args, mutation) => {
    // Taken back before completion: no longer shown or counted; the server keeps it on record.
    const removed = (next.photos || []).find((p) => p.id === args.photo_id);
    if (removed) {
      next.photos = next.photos.filter((p) => p.id !== args.photo_id);
      next.removed_photos = [...(next.removed_photos || []), { ...removed, removed_at: mutation.at, local: true }];
    }
  },
  "signature.capture": (next, args) => {
    if (!(next.signatures || []).some((s) => s.id === args.signature_id)) {
      next.signatures = [...(next.signatures || []), { id: args.signature_id, sha256: args.sha256, signer_name: args.signer_name, signer_relation: args.signer_relation, local: true }];
    }
  },
  "parts.request": (next, args, mutation) => {
    if (!(next.parts_requests || []).some((p) => p.id === args.request_id)) {
      next.parts_requests = [...(next.parts_requests || []), { id: args.request_id, part_name: args.part_name, quantity: args.quantity, kind: args.kind, reason: args.reason, cause: args.cause ?? null, photo_sha256s: args.photo_sha256s || [], status: "pending", created_at: mutation.at, local: true }];
    }
  },
  "takeback.receipt": (next, args, mutation) => {
    if (!(next.takebacks || []).some((tb) => tb.receipt_id === args.receipt_id)) {
      next.takebacks = [...(next.takebacks || []), { receipt_id: args.receipt_id, receipt_no: args.receipt_no ?? null, job_id: next.id, items: args.items, condition: args.condition, photo_sha256s: args.photo_sha256s || [], signer_name: args.signer_name ?? null, status: "out", taken_at: mutation.at, local: true }];
    }
  },
  "takeback.return": (next, args, mutation) => {
    next.takebacks = (next.takebacks || []).map((tb) => (tb.receipt_id === args.receipt_id && tb.status !== "returned" ? { ...tb, status: "returned", returned_at: mutation.at, receipt_retrieved: args.receipt_retrieved ?? true, local: true } : tb));
  },
};

export function applyLocal(job, mutation) {
  if (!job) return job;
  const next = structuredClone(job);
  next.pending = (next.pending || 0) + 1;
  const effect = Object.prototype.hasOwnProperty.call(EFFECTS, mutation.type) ? EFFECTS[mutation.type] : null;
  if (effect) effect(next, mutation.args, mutation);
  return next;
}

// Rebase: the server's job with every still-pending mutation for it applied in seq order.
// The server's copy rides along as `_server`, so a refused change can be undone later.
export function rebase(serverJob, pendingForJob) {
  let job = { ...serverJob, pending: 0, _server: serverJob };
  for (const mutation of pendingForJob) job = applyLocal(job, mutation);
  return job;
}

// One item answered as the completion rule counts it (photos: at least min_photos).
export function itemDone(job, item) {
  const value = job.answers?.[item.key]?.value;
  if (item.kind === "photo") return (job.photos || []).filter((p) => p.item_key === item.key).length >= (item.min_photos || 1);
  if (item.kind === "check") return value === true;
  if (item.kind === "number") return typeof value === "number" && Number.isFinite(value);
  if (item.kind === "text") return typeof value === "string" && value.trim() !== "";
  if (item.kind === "choice") return (item.options || []).some((o) => o.value === value);
  return false;
}

// The same completion rule as the server (fieldapp/core/checklist.py), for the phone's
// completion screen: every required item satisfied and a customer signature attached.
export function unmetItems(job, template) {
  if (!template) return [];
  const photoCounts = {};
  for (const p of job.photos || []) if (p.item_key) photoCounts[p.item_key] = (photoCounts[p.item_key] || 0) + 1;
  const unmet = [];
  for (const item of template.items) {
    if (!item.required || itemDone(job, item)) continue;
    unmet.push({ key: item.key, label: item.label, kind: item.kind, phase: item.phase, have: photoCounts[item.key] || 0, need: item.min_photos || 1 });
  }
  if (!(job.signatures || []).length) unmet.push({ key: "customer_signature", kind: "signature", phase: "completion", label: { "zh-CN": "顾客签字", en: "Customer signature" } });
  return unmet;
}
