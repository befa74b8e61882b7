// Messages from the office (GET /api/v1/notifications): reminders of tomorrow's jobs and the
// like. Fetched after each good sync round and kept in IndexedDB so they show offline too;
// "got it" is remembered locally at once and told to the server on the next refresh.
import { request, NetworkError } from "./api.js";
import { getMeta, setMeta } from "./storage.js";

export async function inboxItems() {
  const items = (await getMeta("inbox")) || [];
  const read = new Set((await getMeta("inbox_read")) || []);
  return items.filter((n) => !read.has(n.id));
}

export async function markRead(id) {
  const read = new Set((await getMeta("inbox_read")) || []);
  read.add(id);
  await setMeta("inbox_read", [...read]);
}

// Returns true when the unread list changed (so the job list should redraw).
export async function refreshInbox() {
  if (!(await getMeta("token"))) return false;
  try {
    const done = new Set();
    for (const id of (await getMeta("inbox_read")) || []) {
      const answer = await request("POST", `/api/v1/notifications/${id}/read`);
      if (answer.status < 500) done.add(id);  // 200, or 404: gone; either way told
    }
    // What the server now knows is read leaves the kept list first, then the "got it" list,
    // so it can never show again in between (a reload before the refresh below). Re-read
    // both: a "got it" tapped while we were sending must not be forgotten.
    await setMeta("inbox", ((await getMeta("inbox")) || []).filter((n) => !done.has(n.id)));
    await setMeta("inbox_read", ((await getMeta("inbox_read")) || []).filter((id) => !done.has(id)));
    const answer = await request("GET", "/api/v1/notifications?unread=1&limit=20");
    if (answer.status !== 200) return false;
    const before = JSON.stringify(((await getMeta("inbox")) || []).map((n) => n.id));
    const items = answer.data.items.map(({ id, kind, subject, body, created_at, job_id }) => ({ id, kind, subject, body, created_at, job_id }));
    await setMeta("inbox", items);
    return before !== JSON.stringify(items.map((n) => n.id));
  } catch (error) {
    if (error instanceof NetworkError) return false;
    throw error;
  }
}
