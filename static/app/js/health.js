// What the app needs to keep work offline, checked on start: a service worker in control of
// the page, a working IndexedDB, storage the browser promises not to clear. WeChat and
// vendor browsers often lack one of them; the technician is told what to do before any work
// is lost. The same facts ride along with every push, so the office sees them too.
import { db, askPersistence } from "./storage.js";

const CONTROL_WAIT_MS = 4000;

// The last known state; sync.js sends it as `client.storage` with each push.
export const health = { sw: false, idb: false, persisted: false, checked: false };

export const isWeChat = () => /MicroMessenger/i.test(navigator.userAgent || "");

async function indexedDbWorks() {
  if (!("indexedDB" in window)) return false;
  try {
    const database = await Promise.race([db(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 3000))]);
    await database.get("meta", "__probe");
    return true;
  } catch (_error) {
    return false;
  }
}

// A first visit is controlled only once the new worker has claimed the page.
async function serviceWorkerControls() {
  if (!("serviceWorker" in navigator)) return false;
  if (navigator.serviceWorker.controller) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Boolean(navigator.serviceWorker.controller)), CONTROL_WAIT_MS);
    navigator.serviceWorker.addEventListener("controllerchange", () => { clearTimeout(timer); resolve(true); }, { once: true });
  });
}

// Returns the problems, most serious first: "wechat", "no_sw", "no_idb", "not_controlled",
// "not_persisted" (an empty list when the app can work offline safely). With
// `waitForControl` false it answers at once and says nothing of control yet: on a first
// start the new worker claims the page only after installing, which is no problem.
export async function checkHealth({ waitForControl = true } = {}) {
  const [idb, persisted] = await Promise.all([indexedDbWorks(), askPersistence()]);
  const supported = "serviceWorker" in navigator;
  let sw = false;
  if (supported) sw = waitForControl ? await serviceWorkerControls() : Boolean(navigator.serviceWorker.controller);
  Object.assign(health, { sw, idb, persisted: Boolean(persisted), checked: true });
  const problems = [];
  if (!supported) problems.push("no_sw");
  if (!idb) problems.push("no_idb");
  // Not yet in control is said at once only inside WeChat, whose advice holds either way.
  if (supported && !sw && (waitForControl || isWeChat())) problems.push("not_controlled");
  // Inside WeChat the way out is its own menu, which cures all of these: say only that.
  if (problems.length && isWeChat()) problems.splice(0, problems.length, "wechat");
  if (!persisted) problems.push("not_persisted");
  return problems;
}
