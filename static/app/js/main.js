// Boot: language, rules, service worker, sign-in, the sync loop and the hash router.
import { pickLanguage, setLanguage, setBusinessTimeZone, t } from "./i18n.js";
import { getMeta, setMeta, askPersistence, storageEstimate } from "./storage.js";
import { setRules } from "./local-rules.js";
import { onOutboxChange, pending, countByThing } from "./outbox.js";
import { checkHealth } from "./health.js";
import { bringIntoView } from "./checklist.js";
import { startSync, requestSync, onSyncState, state } from "./sync.js";
import { request } from "./api.js";
import { signInView, jobListView, jobView, signOffView, doneView, reasonView, settingsView, renderBadge } from "./views.js";
import { partView, takebackView, receiptView, returnView } from "./parts.js";
import { refreshInbox } from "./inbox.js";

const STORAGE_WARN_RATIO = 0.8;
const HEALTH_WAIT_MS = 300;
let updateAccepted = false;
let wasRunning = false;
let wasSignedOut = false;
let shownVersion = 0;

async function fetchRules() {
  // Precached by the service worker, so this works offline; remembered for the next start.
  try {
    const response = await fetch("/app/rules.json");
    if (response.ok) {
      const rules = await response.json();
      await setMeta("rules", rules);
      return rules;
    }
  } catch (_error) { /* offline and not cached yet */ }
  return getMeta("rules");
}

async function route() {
  if (!(await getMeta("token"))) {
    const why = state.signedOutBy === "device_revoked" ? "device_revoked" : "sign_in_again";
    signInView(onSignedIn, state.needsSignIn ? t(why) : null);
    return;
  }
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "job" && parts[1]) {
    if (parts[2] === "sign" || parts[2] === "complete") return signOffView(parts[1]);
    if (parts[2] === "done") return doneView(parts[1]);
    if (parts[2] === "item" && parts[3]) { await jobView(parts[1]); bringIntoView(decodeURIComponent(parts[3])); return; }
    if (parts[2] === "reason" && parts[3]) return reasonView(parts[1], parts[3]);
    if (parts[2] === "part") return partView(parts[1]);
    if (parts[2] === "takeback") return takebackView(parts[1]);
    if (parts[2] === "receipt" && parts[3]) return receiptView(parts[1], parts[3]);
    if (parts[2] === "return" && parts[3]) return returnView(parts[1], parts[3]);
    return jobView(parts[1]);
  }
  if (parts[0] === "settings") return settingsView(() => { location.hash = "#/"; route(); });
  return jobListView();
}

async function onSignedIn(answer) {
  const previousDevice = await getMeta("device_id");
  await setMeta("token", answer.token);
  await setMeta("device_id", answer.device_id);
  await setMeta("user", answer.user);
  await setMeta("inbox", []);  // the previous user's messages are not this one's
  await setMeta("inbox_read", []);
  if (previousDevice && previousDevice !== answer.device_id) {
    // A new registration starts its own sequence: pull everything again; the pending
    // outbox is renumbered by the server's seq_gap answer and deduplicated by mutation id.
    await setMeta("cursor", "");
  }
  state.needsSignIn = false;
  state.signedOutBy = null;
  location.hash = "#/";
  await route();
  requestSync();
}

// A technician who signed in on /login gets a device token without typing again.
async function adoptWebSession() {
  if (await getMeta("token")) return;
  try {
    const session = await request("GET", "/app/session", { auth: false });
    if (!session.data?.user) return;
    const answer = await request("POST", "/app/device-token", { auth: false, headers: { "X-CSRFToken": session.data.csrf_token },
      json: { device_name: `${navigator.platform || "phone"} · web`, device_id: (await getMeta("device_id")) || undefined } });
    if (answer.status === 200) await onSignedIn(answer.data);
  } catch (_error) { /* offline: the sign-in screen will do */ }
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).then((registration) => {
    const offer = (worker) => {
      const banner = document.getElementById("update-banner");
      document.getElementById("update-text").textContent = t("update_ready");
      const button = document.getElementById("update-button");
      button.textContent = t("update_now");
      button.onclick = () => { updateAccepted = true; worker.postMessage("skip-waiting"); };
      banner.classList.remove("hidden");
    };
    if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker?.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
      });
    });
    setInterval(() => registration.update().catch(() => null), 30 * 60 * 1000);
  }).catch(() => null);
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only after the technician accepted an update (a first install just takes control).
    if (updateAccepted) location.reload();
  });
}

// Where the app cannot keep work offline, say so at once, in the technician's language, with
// what to do (open in the system browser, add to the home screen).
const HEALTH_TEXT = { wechat: "health_wechat", no_sw: "health_no_sw", no_idb: "health_no_idb",
  not_controlled: "health_not_controlled", not_persisted: "health_not_persisted" };

// Says at once what is known (the banner is in place before the first screen is drawn, so
// nothing jumps under the thumb); whether the service worker takes control is known only
// after a first install, so that part is said later, and only if it never did.
async function showHealth() {
  const drawn = drawHealth(await checkHealth({ waitForControl: false }));
  if ("serviceWorker" in navigator && !navigator.serviceWorker.controller) checkHealth().then(drawHealth);
  return drawn;
}

async function drawHealth(problems) {
  const banner = document.getElementById("health-banner");
  const key = problems.join(" ");
  // Storage that is merely not promised can be acknowledged; a browser that cannot keep work
  // offline at all is said on every start.
  const onlyPersistence = key === "not_persisted";
  const acknowledged = onlyPersistence && (await getMeta("health_acknowledged").catch(() => null)) === key;
  const lines = problems.map((p) => Object.assign(document.createElement("p"), { textContent: t(HEALTH_TEXT[p]) }));
  if (onlyPersistence) {
    lines.push(Object.assign(document.createElement("button"), { type: "button", className: "dismiss", textContent: t("got_it"),
      onclick: async () => { banner.classList.add("hidden"); await setMeta("health_acknowledged", key); } }));
  }
  banner.replaceChildren(...lines);
  banner.dataset.problems = key;
  banner.classList.toggle("hidden", !problems.length || acknowledged);
  // A slow first install takes control later: look again then.
  if (problems.includes("not_controlled")) {
    navigator.serviceWorker.addEventListener("controllerchange", () => showHealth(), { once: true });
  }
  return problems;
}

async function countWaiting() {
  const waiting = await pending();
  state.pending = waiting.length;
  state.things = countByThing(waiting);
}

async function watchStorage() {
  await askPersistence();
  const estimate = await storageEstimate();
  const banner = document.getElementById("storage-banner");
  if (estimate && estimate.ratio >= STORAGE_WARN_RATIO) {
    banner.textContent = t("storage_warn", { pct: Math.round(estimate.ratio * 100) });
    banner.classList.remove("hidden");
  } else {
    banner.classList.add("hidden");
  }
}

// A background refresh must never throw away what the technician is typing or signing.
function isTyping() {
  const el = document.activeElement;
  if (el && ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) return true;
  if (document.querySelector("canvas.signature-pad, .preview")) return true;
  return [...document.querySelectorAll("#view textarea, #view input:not([type=file])")]
    .some((field) => field.value !== field.defaultValue);
}

async function boot() {
  let saved = null;
  try { saved = await getMeta("locale"); } catch (_error) { /* no IndexedDB: showHealth says so */ }
  setLanguage(pickLanguage(saved));
  registerServiceWorker();
  const healthy = showHealth();
  const healthShown = Promise.race([healthy, new Promise((resolve) => setTimeout(resolve, HEALTH_WAIT_MS))]);
  // The warning first (it is above everything else), then the network.
  await healthShown;
  // The job list is drawn from what the phone holds at once; the rules come from the last
  // start and are refreshed behind it (fetched first only on the very first start).
  let rules = null;
  try { rules = await getMeta("rules"); } catch (_error) { await healthy; return; }
  const fresh = fetchRules();
  if (!rules) rules = await fresh;
  setRules(rules);
  setBusinessTimeZone(rules?.timezone);
  fresh.then((newer) => { if (newer) { setRules(newer); setBusinessTimeZone(newer.timezone); } });
  onSyncState((s) => {
    renderBadge(s);
    if (s.needsSignIn) {
      if (!wasSignedOut) { wasSignedOut = true; route(); }
      return;
    }
    wasSignedOut = false;
    // After a sync round that changed local data, show it, unless the technician is typing.
    if (wasRunning && !s.running && s.dataVersion !== shownVersion && !isTyping()) {
      shownVersion = s.dataVersion;
      route();
    }
    // After a good round, the office's messages too (best effort: they are not work).
    if (wasRunning && !s.running && !s.error) {
      refreshInbox().then((changed) => { if (changed && !isTyping()) route(); }).catch(() => null);
    }
    wasRunning = s.running;
  });
  await countWaiting();
  renderBadge(state);
  // After each change: the badge (at most every 150 ms: counting the outbox is not free),
  // and a sync round when there is a network (offline, the "online" event starts one).
  let badgeTimer = null;
  onOutboxChange(() => {
    clearTimeout(badgeTimer);
    badgeTimer = setTimeout(async () => { await countWaiting(); renderBadge(state); }, 150);
    if (navigator.onLine) requestSync();
  });
  document.getElementById("sync-badge").addEventListener("click", () => requestSync());
  window.addEventListener("hashchange", route);
  // Counted afresh, not from the debounced count: "all sent" must never show for a change
  // made a moment before the network came back.
  const recountAndRender = async () => { await countWaiting(); renderBadge(state); };
  window.addEventListener("online", recountAndRender);
  window.addEventListener("offline", recountAndRender);
  if (!(await getMeta("token"))) await adoptWebSession();
  // A warning that lands above a drawn screen pushes it down under the thumb (and counts as
  // layout shift): give the health check a moment to answer first, never more.
  await healthShown;
  await route();
  document.body.dataset.drawn = "true";
  startSync();
  watchStorage();
  setInterval(watchStorage, 10 * 60 * 1000);
  document.body.dataset.ready = "true";
}

boot();
