// The outbox: every change the technician makes becomes a mutation with the next seq of this
// device. The mutation, the local change to the job and any photo bytes are written in ONE
// IndexedDB transaction, so either all of it is kept or none of it is.
import { db, blobRecord } from "./storage.js";
import { applyLocal } from "./local-rules.js";
import { REGISTRY } from "/app/registry.js";

const listeners = new Set();
export const onOutboxChange = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
const changed = () => listeners.forEach((fn) => fn());

export async function record(type, jobId, args, blob = null) {
  // A kind of change the server does not know would only come back rejected: a bug, said now.
  if (!REGISTRY.mutation_types[type]) throw new Error(`unknown mutation type ${type}`);
  // Prepare everything that needs awaiting outside IndexedDB first: a transaction closes
  // when it waits on anything else. `blob` is one {sha256, data} or a list of them.
  const blobList = (Array.isArray(blob) ? blob : blob ? [blob] : []);
  const blobEntries = [];
  for (const b of blobList) blobEntries.push(await blobRecord(b.sha256, b.data, { job_id: jobId }));
  const database = await db();
  const tx = database.transaction(["meta", "outbox", "jobs", "blobs"], "readwrite");
  const meta = tx.objectStore("meta");
  const jobs = tx.objectStore("jobs");
  const blobs = tx.objectStore("blobs");
  // The reads go out together and the writes too: a few IndexedDB round trips instead of
  // one per request (an answer is saved in a few milliseconds with thousands of jobs kept).
  const [nextSeq, job, ...stored] = await Promise.all([meta.get("next_seq"), jobs.get(jobId),
    ...blobEntries.map((entry) => blobs.get(entry.sha256))]);
  const seq = nextSeq || 1;
  const mutation = { seq, id: crypto.randomUUID(), type, job_id: jobId, at: new Date().toISOString(), args };
  const writes = [meta.put(seq + 1, "next_seq"), tx.objectStore("outbox").put(mutation)];
  if (job) writes.push(jobs.put(applyLocal(job, mutation)));
  blobEntries.forEach((entry, i) => { if (!stored[i]) writes.push(blobs.put(entry)); });
  await Promise.all([...writes, tx.done]);
  changed();
  return mutation;
}

export async function pending() {
  return (await db()).getAll("outbox"); // keyPath seq: already in seq order
}

export async function pendingCount() {
  return (await db()).count("outbox");
}

// What is waiting, as a person counts it: photos, signatures, answers... (i18n.countThings);
// each mutation type says what it counts as (`counts_as` in the server's registry).
export function countByThing(mutations) {
  const counts = {};
  for (const m of mutations) {
    const thing = REGISTRY.mutation_types[m.type]?.counts_as || "other";
    counts[thing] = (counts[thing] || 0) + 1;
  }
  return counts;
}

export async function pendingThings(jobId = null) {
  const all = await pending();
  return countByThing(jobId ? all.filter((m) => m.job_id === jobId) : all);
}

export async function pendingFor(jobId) {
  return (await pending()).filter((m) => m.job_id === jobId);
}

// The server answered for these seqs (applied, duplicate, rejected or conflict): done.
export async function confirm(seqs) {
  if (!seqs.length) return;
  const database = await db();
  const tx = database.transaction("outbox", "readwrite");
  for (const seq of seqs) await tx.store.delete(seq);
  await tx.done;
  changed();
}

// A pull said the server processed everything up to lastSeq (its answers were lost).
export async function confirmThrough(lastSeq) {
  const database = await db();
  const tx = database.transaction("outbox", "readwrite");
  let cursor = await tx.store.openCursor(IDBKeyRange.upperBound(lastSeq));
  let removed = 0;
  while (cursor) { await cursor.delete(); removed += 1; cursor = await cursor.continue(); }
  await tx.done;
  if (removed) changed();
  return removed;
}

// The server expects `expected` next (409 seq_gap): it never processed anything we hold, so
// give the pending mutations consecutive seqs from there. Ids stay: the server dedupes by id.
export async function renumberFrom(expected) {
  const database = await db();
  const tx = database.transaction(["outbox", "meta"], "readwrite");
  const store = tx.objectStore("outbox");
  const all = await store.getAll();
  await store.clear();
  let seq = expected;
  for (const mutation of all) { await store.put({ ...mutation, seq }); seq += 1; }
  await tx.objectStore("meta").put(seq, "next_seq");
  await tx.done;
  changed();
}
