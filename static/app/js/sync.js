// The sync loop: one at a time across tabs (Web Locks), on start, when the network comes
// back, when the app becomes visible, after each change and every minute; exponential backoff
// with jitter while the server cannot be reached.
// Order of work: upload blobs, push the outbox, pull. Nothing is deleted locally until the
// server has answered for it.
import { request, NetworkError } from "./api.js";
import { db, getMeta, setMeta, blobsToUpload, markBlob, recordToBlob, addNotice, clearSession } from "./storage.js";
import { pending, confirm, confirmThrough, renumberFrom } from "./outbox.js";
import { rebase } from "./local-rules.js";
import { health } from "./health.js";

const BATCH = 100;
const MINUTE = 60 * 1000;
const MAX_BACKOFF = 5 * MINUTE;

// `dataVersion` moves when a round changed what the screens show (a pull brought jobs, a
// refused change was undone), so the app redraws only then.
// `signedOutBy`: why the token stopped working ("device_revoked": the office cut this phone
// off, so the sign-in screen says so; null: it expired or was signed out here).
export const state = { online: navigator.onLine, running: false, lastSynced: null, error: null, needsSignIn: false, signedOutBy: null, pending: 0, dataVersion: 0 };
const listeners = new Set();
export const onSyncState = (fn) => { listeners.add(fn); fn(state); return () => listeners.delete(fn); };
function publish(patch) { Object.assign(state, patch); listeners.forEach((fn) => fn(state)); }

let failures = 0;
let timer = null;
let again = false;
let refusal = null;  // the last 401's code, for the sign-in screen

// A 401 ends the round: remember whether the office revoked this phone.
function signIn(answer) {
  refusal = answer.data?.error === "device_revoked" ? "device_revoked" : null;
  return "signin";
}

export function startSync() {
  window.addEventListener("online", () => { publish({ online: true }); failures = 0; requestSync(); });
  window.addEventListener("offline", () => publish({ online: false }));
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") requestSync(); });
  setInterval(() => requestSync(), MINUTE);
  getMeta("last_synced").then((at) => publish({ lastSynced: at }));
  requestSync();
}

export function requestSync() {
  clearTimeout(timer);
  timer = null;
  if (navigator.locks?.request) {
    // ifAvailable: if another tab (or this one) is syncing, remember to go again after it.
    navigator.locks.request("fieldapp-sync", { ifAvailable: true }, async (lock) => {
      if (!lock) { again = true; return; }
      await runOnce();
    });
  } else {
    runOnce();
  }
}

async function runOnce() {
  if (state.running) { again = true; return; }
  again = false;
  publish({ running: true });
  try {
    const outcome = await syncOnce();
    failures = 0;
    if (outcome === "signin") {
      // The token is no good: forget it (never the outbox) and ask for a sign-in.
      await clearSession();
      publish({ needsSignIn: true, signedOutBy: refusal, error: null });
    }
    else publish({ error: null, needsSignIn: false, online: true });
  } catch (error) {
    failures += 1;
    const offline = error instanceof NetworkError;
    publish({ error: offline ? "network" : String(error?.message || error), online: offline ? false : state.online });
    const delay = Math.min(MAX_BACKOFF, 1000 * 2 ** Math.min(failures, 9)) * (0.5 + Math.random());
    timer = setTimeout(requestSync, delay);
  } finally {
    publish({ running: false, pending: await (await db()).count("outbox") });
  }
  if (again) { again = false; setTimeout(requestSync, 0); }
}

// One full round. Returns "signin" when the server no longer accepts our token, "none" when
// nobody is signed in.
export async function syncOnce() {
  if (!(await getMeta("token"))) return "none";  // not signed in yet: nothing to do
  if ((await uploadBlobs()) === "signin") return "signin";
  if ((await pushOutbox()) === "signin") return "signin";
  if ((await pull()) === "signin") return "signin";
  await dropRemovedJobs();
  const now = new Date().toISOString();
  await setMeta("last_synced", now);
  publish({ lastSynced: now });
  return "ok";
}

async function uploadBlobs() {
  for (const record of await blobsToUpload()) {
    const head = await request("HEAD", `/api/v1/blobs/${record.sha256}`);
    if (head.status === 401) return signIn(head);
    if (head.status === 200) { await markBlob(record.sha256, { uploaded: true }); continue; }
    const blob = recordToBlob(record);
    const put = await request("PUT", `/api/v1/blobs/${record.sha256}`, { body: blob, headers: { "Content-Type": record.type }, timeout: 180000 });
    if (put.status === 401) return signIn(put);
    if (put.status === 200 || put.status === 201) await markBlob(record.sha256, { uploaded: true });
    else if (put.status === 413 || put.status === 415) {
      // Bytes the server will never take: say so rather than retrying forever.
      await markBlob(record.sha256, { refused: put.status });
      await addNotice({ job_id: record.job_id, status: "rejected", reason: put.data?.error || String(put.status) });
    } else if (put.status >= 500) throw new Error(`blob upload ${put.status}`);
    // 422 hash_mismatch means the bytes changed on the way: the next round sends them again.
  }
  return "ok";
}

async function pushOutbox() {
  const deviceId = await getMeta("device_id");
  for (let round = 0; round < 50; round += 1) {
    const waiting = await pending();
    const batch = waiting.slice(0, BATCH);
    if (!batch.length) return "ok";
    const mutations = batch.map(({ seq, id, type, job_id, at, args }) => ({ seq, id, type, job_id, at, args }));
    // sent_at: the device clock now, so the server can correct each `at` by the device's
    // clock offset; client: what the office sees of this phone's storage beside its last sync.
    const client = { storage: { persisted: health.persisted, sw: health.sw, idb: health.idb }, pending: waiting.length };
    const answer = await request("POST", "/api/v1/sync/push", { json: { device_id: deviceId, sent_at: new Date().toISOString(), client, mutations } });
    if (answer.status === 401 || (answer.status === 403 && answer.data?.error === "device_mismatch")) return signIn(answer);
    if (answer.status === 409 && answer.data?.error === "seq_gap") {
      await renumberFrom(answer.data.details.expected_seq);
      // The server lost seqs it had acknowledged (its database was restored from a backup):
      // its change numbers may be handed out anew too, so pull everything again.
      await setMeta("cursor", "");
      continue;
    }
    if (answer.status !== 200) throw new Error(`push ${answer.status}`);
    const done = [];
    let retry = false;
    for (const result of answer.data.results) {
      const mutation = batch.find((m) => m.seq === result.seq);
      if (result.status === "retry") {
        retry = true;
        // The server lacks a blob we think we uploaded: send it again next round.
        if (result.details?.sha256) await markBlob(result.details.sha256, { uploaded: false });
        break;
      }
      done.push(result.seq);
      const original = result.original_status || result.status;
      if (original === "rejected" || original === "conflict") {
        await addNotice({ job_id: mutation?.job_id, seq: result.seq, type: mutation?.type, status: original, reason: result.reason || "", details: result.details || {} });
      }
    }
    await confirm(done);
    await undoRefused(batch, answer.data.results);
    if (retry) { await uploadBlobs(); if (round > 3) return "ok"; }
    if (batch.length < BATCH && !retry) return "ok";
  }
  return "ok";
}

// A change the server refused (rejected, conflict) must not linger on the phone: rebuild
// each such job from the server's copy plus what the server did accept and what is pending.
async function undoRefused(batch, results) {
  const refused = new Set();
  const accepted = new Set();
  for (const result of results) {
    const original = result.original_status || result.status;
    const mutation = batch.find((m) => m.seq === result.seq);
    if (!mutation) continue;
    if (original === "rejected" || original === "conflict") refused.add(mutation.job_id);
    else if (original === "applied") accepted.add(mutation.seq);
  }
  if (!refused.size) return;
  state.dataVersion += 1;
  const database = await db();
  const tx = database.transaction(["jobs", "outbox"], "readwrite");
  const outbox = await tx.objectStore("outbox").getAll();
  for (const jobId of refused) {
    const job = await tx.objectStore("jobs").get(jobId);
    if (!job?._server) continue;
    const replay = batch.filter((m) => m.job_id === jobId && accepted.has(m.seq))
      .concat(outbox.filter((m) => m.job_id === jobId));
    await tx.objectStore("jobs").put({ ...rebase(job._server, replay), removed: job.removed });
  }
  await tx.done;
}

async function pull() {
  let cursor = await getMeta("cursor", "");
  // An answer in another epoch than our cursor (first pull, new registration, the server's
  // database restored) is a full snapshot: jobs it does not bring are gone from the server.
  const sentEpoch = cursor.split(".")[0];
  let snapshot = null;
  const seen = new Set();
  // What still waits after the push: the office sees it (and, should it revoke this phone,
  // lists it as not received).
  const waiting = (await pending()).length;
  for (let page = 0; page < 1000; page += 1) {
    const answer = await request("GET", `/api/v1/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=100&pending=${waiting}`);
    if (answer.status === 401) return signIn(answer);
    if (answer.status !== 200) throw new Error(`pull ${answer.status}`);
    const body = answer.data;
    if (snapshot === null) snapshot = body.cursor.split(".")[0] !== sentEpoch;
    await confirmThrough(body.last_seq);
    await applyPull(body);
    body.changes.jobs.forEach((job) => seen.add(job.id));
    cursor = body.cursor;
    await setMeta("cursor", cursor);
    if (!body.has_more) {
      if (snapshot) await dropJobsNotIn(seen);
      return "ok";
    }
  }
  return "ok";
}

// After a full snapshot: a job the server no longer has for us goes, unless we still owe the
// server changes for it (its push answers first).
async function dropJobsNotIn(seen) {
  const database = await db();
  const tx = database.transaction(["jobs", "outbox"], "readwrite");
  const owed = new Set((await tx.objectStore("outbox").getAll()).map((m) => m.job_id));
  let dropped = 0;
  for (const job of await tx.objectStore("jobs").getAll()) {
    if (!seen.has(job.id) && !owed.has(job.id)) { await tx.objectStore("jobs").delete(job.id); dropped += 1; }
  }
  await tx.done;
  if (dropped) state.dataVersion += 1;
}

// A job taken off this phone was kept only while we owed the server changes for it.
async function dropRemovedJobs() {
  const database = await db();
  const tx = database.transaction(["jobs", "outbox"], "readwrite");
  const owed = new Set((await tx.objectStore("outbox").getAll()).map((m) => m.job_id));
  for (const job of await tx.objectStore("jobs").getAll()) {
    if (job.removed && !owed.has(job.id)) await tx.objectStore("jobs").delete(job.id);
  }
  await tx.done;
}

async function applyPull(body) {
  if (body.changes.jobs.length || body.changes.checklist_templates.length || body.removed.jobs.length) {
    state.dataVersion += 1;
  }
  const database = await db();
  // The outbox is read inside the same transaction, so a change recorded meanwhile is
  // either in this rebase or written after it, never lost from view.
  const tx = database.transaction(["jobs", "templates", "outbox"], "readwrite");
  const outbox = await tx.objectStore("outbox").getAll();
  for (const template of body.changes.checklist_templates) await tx.objectStore("templates").put(template);
  const jobs = tx.objectStore("jobs");
  for (const job of body.changes.jobs) {
    await jobs.put(rebase(job, outbox.filter((m) => m.job_id === job.id)));
  }
  for (const id of body.removed.jobs) {
    // Keep a job we still owe the server changes for; its push will come back as conflict.
    if (outbox.some((m) => m.job_id === id)) {
      const job = await jobs.get(id);
      if (job) await jobs.put({ ...job, removed: true });
    } else {
      await jobs.delete(id);
    }
  }
  await tx.done;
}
