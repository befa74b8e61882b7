// Everything the phone keeps, in IndexedDB: jobs as last pulled (plus local changes),
// checklist templates, photo and signature bytes, the outbox of mutations, notices, meta.
import { openDB } from "/static/vendor/idb/idb.js";

const DB_NAME = "fieldapp";
const DB_VERSION = 1;
let dbPromise = null;
let blobsSupported = null;

export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("jobs", { keyPath: "id" });
        database.createObjectStore("templates", { keyPath: "id" });
        database.createObjectStore("outbox", { keyPath: "seq" });
        database.createObjectStore("blobs", { keyPath: "sha256" });
        database.createObjectStore("notices", { keyPath: "key", autoIncrement: true });
      },
      // iOS closes idle connections after backgrounding: open again on next use.
      terminated() { dbPromise = null; },
      blocking() { dbPromise?.then((d) => d.close()); dbPromise = null; },
    });
  }
  return dbPromise;
}

export async function getMeta(key, fallback = null) {
  const value = await (await db()).get("meta", key);
  return value === undefined ? fallback : value;
}

export async function setMeta(key, value) {
  await (await db()).put("meta", value, key);
}

export async function allJobs() {
  return (await db()).getAll("jobs");
}

export async function getJob(id) {
  return (await db()).get("jobs", id);
}

export async function getTemplate(id) {
  return (await db()).get("templates", id);
}

// Some browsers (older Safari) fail to store Blobs in IndexedDB: probe once and fall back
// to ArrayBuffers, which every browser stores.
export async function canStoreBlobs() {
  if (blobsSupported !== null) return blobsSupported;
  try {
    const database = await db();
    const probe = new Blob([new Uint8Array([1, 2, 3])], { type: "application/octet-stream" });
    await database.put("meta", probe, "__blob_probe");
    const back = await database.get("meta", "__blob_probe");
    blobsSupported = back instanceof Blob && (await back.arrayBuffer()).byteLength === 3;
    await database.delete("meta", "__blob_probe");
  } catch (_error) {
    blobsSupported = false;
  }
  return blobsSupported;
}

// A record for the blobs store: the Blob itself, or its bytes where Blobs cannot be stored.
export async function blobRecord(sha256, blob, extra = {}) {
  const base = { sha256, type: blob.type, size: blob.size, uploaded: false, created_at: new Date().toISOString(), ...extra };
  if (await canStoreBlobs()) return { ...base, blob };
  return { ...base, buffer: await blob.arrayBuffer() };
}

export function recordToBlob(record) {
  if (!record) return null;
  if (record.blob instanceof Blob) return record.blob;
  if (record.buffer) return new Blob([record.buffer], { type: record.type });
  return null;
}

export async function getBlob(sha256) {
  return recordToBlob(await (await db()).get("blobs", sha256));
}

export async function blobsToUpload() {
  const all = await (await db()).getAll("blobs");
  return all.filter((b) => !b.uploaded && !b.refused);
}

export async function markBlob(sha256, fields) {
  const database = await db();
  const tx = database.transaction("blobs", "readwrite");
  const record = await tx.store.get(sha256);
  if (record) await tx.store.put({ ...record, ...fields });
  await tx.done;
}

export async function addNotice(notice) {
  await (await db()).add("notices", { ...notice, at: new Date().toISOString(), seen: false });
}

export async function unseenNotices() {
  return (await (await db()).getAll("notices")).filter((n) => !n.seen);
}

export async function markNoticesSeen(jobId = null) {
  const database = await db();
  const tx = database.transaction("notices", "readwrite");
  for (const notice of await tx.store.getAll()) {
    if (!notice.seen && (jobId === null || notice.job_id === jobId)) {
      await tx.store.put({ ...notice, seen: true });
    }
  }
  await tx.done;
}

export async function storageEstimate() {
  if (!navigator.storage?.estimate) return null;
  const { usage, quota } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  return { usage, quota, persisted, ratio: quota ? usage / quota : 0 };
}

// Ask the browser not to evict our data under storage pressure.
export async function askPersistence() {
  if (navigator.storage?.persist) {
    try { return await navigator.storage.persist(); } catch (_error) { return false; }
  }
  return false;
}

// Forget the signed-in user but never the outbox: unsynced work survives a sign-out.
export async function clearSession() {
  const database = await db();
  await database.delete("meta", "token");
}
