// The phone's own words, zh-CN first (the technicians' language) and English.
// What the server names (job types, skills, kinds of change, why a change was refused) is not
// here: it comes from the server's registries, /app/registry.js, precached with the shell.
import { REGISTRY } from "/app/registry.js";

// Each of the phone's own words once: [zh-CN, English], side by side so neither is ever
// missing (tests/test_glossary.py reads the zh-CN ones).
const MESSAGES = {
  app_name: ["售后上门服务", "fieldapp"],
  sign_in: ["登录", "Sign in"],
  username: ["用户名", "User name"],
  password: ["密码", "Password"],
  signing_in: ["正在登录…", "Signing in…"],
  sign_in_failed: ["用户名或密码错误。", "Wrong user name or password."],
  sign_in_offline: ["没有网络，联网后才能首次登录。", "No network: the first sign-in needs a connection."],
  sign_in_throttled: ["登录失败次数过多，请稍后再试。", "Too many failed sign-ins. Try again later."],
  sign_in_again: ["登录已过期，请重新登录。未同步的记录会保留。", "Your sign-in expired. Sign in again; nothing unsynced is lost."],
  device_revoked: ["这台手机已被办公室退出登录。请重新登录；未同步的记录会保留在手机上。", "This phone was signed out by the office. Sign in again; nothing unsynced is lost from the phone."],
  sign_out: ["退出登录", "Sign out"],
  sign_out_pending: [
    "还有 {n} 条记录未同步，退出后将在重新登录时继续同步。确定退出吗？",
    "{n} records are not synced yet; they will sync after you sign in again. Sign out?"],
  today: ["今天", "Today"],
  upcoming: ["之后", "Upcoming"],
  earlier: ["之前", "Earlier"],
  no_jobs: ["暂无工单。", "No jobs."],
  offline: ["离线", "Offline"],
  online: ["在线", "Online"],
  syncing: ["同步中…", "Syncing…"],
  pending: ["{n} 项记录", "{n} changes"],
  synced_at: ["✓ 全部已发送 {time}", "✓ All sent {time}"],
  never_synced: ["尚未同步", "Not synced yet"],
  sync_now: ["立即同步", "Sync now"],
  sync_error: ["同步失败，稍后自动重试", "Sync failed; retrying by itself"],
  call: ["拨打", "Call"],
  map: ["地图", "Map"],
  phone: ["电话", "Phone"],
  address: ["地址", "Address"],
  customer: ["顾客", "Customer"],
  product: ["产品型号", "Product"],
  problem: ["问题描述", "Problem"],
  dispatcher_notes: ["调度备注", "Dispatcher notes"],
  notes: ["备注", "Notes"],
  add_note: ["添加备注", "Add note"],
  save: ["保存", "Save"],
  note_placeholder: ["记录现场情况…", "What happened on site…"],
  status_actions: ["工单状态", "Job status"],
  checklist: ["检查表", "Checklist"],
  required: ["必填", "required"],
  yes: ["是", "Yes"],
  no: ["否", "No"],
  photos: ["照片", "Photos"],
  take_photo: ["拍照", "Take photo"],
  photo_saving: ["正在处理照片…", "Processing photo…"],
  photos_count: ["{have}/{need} 张", "{have}/{need}"],
  signature: ["顾客签字", "Customer signature"],
  sign_here: ["请顾客在此签字", "Customer signs here"],
  signer_name: ["签字人姓名", "Signer's name"],
  signer_relation: ["与顾客关系", "Relation to customer"],
  clear: ["清除", "Clear"],
  save_signature: ["保存签字", "Save signature"],
  signature_saved: ["已签字：{name}（{relation}）", "Signed: {name} ({relation})"],
  signature_empty: ["请先签字。", "Please sign first."],
  signer_needed: ["请填写签字人姓名和关系。", "Fill in the signer's name and relation."],
  relation_self: ["本人", "Customer"],
  relation_family: ["家属", "Family"],
  relation_other: ["其他", "Other"],
  complete: ["完工", "Complete"],
  complete_title: ["完工检查", "Completion check"],
  missing: ["还缺以下内容：", "Still missing:"],
  all_done: ["所有必填项已填好，可以完工。", "Every required item is done: the job can be completed."],
  confirm_complete: ["确认完工", "Complete the job"],
  reason: ["原因", "Reason"],
  reason_needed: ["请填写原因。", "A reason is required."],
  could_not_complete: ["无法完成", "Could not complete"],
  back: ["返回", "Back"],
  settings: ["设置", "Settings"],
  language: ["语言", "Language"],
  storage: ["本机存储", "Storage on this phone"],
  storage_used: ["已用 {used} / 可用 {quota}", "{used} used of {quota}"],
  storage_warn: ["手机存储空间快满了（已用 {pct}%）。请尽快联网同步。", "Phone storage is nearly full ({pct}% used). Sync soon."],
  storage_persisted: ["数据已设为持久保存", "Data is stored persistently"],
  storage_not_persisted: ["浏览器可能会清理数据：请把应用添加到主屏幕", "The browser may clear data: add the app to the home screen"],
  update_ready: ["有新版本。", "A new version is ready."],
  update_now: ["更新", "Update"],
  rejected: ["服务器未接受：{reason}", "Not accepted by the server: {reason}"],
  rejected_change: ["服务器未接受（{what}）：{reason}", "Not accepted by the server ({what}): {reason}"],
  still_missing_items: ["{reason}还缺：{items}", "{reason} Still missing: {items}"],
  conflict: ["此工单已变更：您的记录已保留，调度员会处理。", "This job changed: your evidence was kept for the office."],
  notices: ["提醒", "Notices"],
  dismiss: ["知道了", "OK"],
  inbox: ["办公室消息", "From the office"],
  got_it: ["知道了", "Got it"],
  open_job: ["打开工单", "Open job"],
  item_answered: ["已记录", "Recorded"],
  job_removed: ["此工单已不再分配给您。", "This job is no longer assigned to you."],
  not_found: ["没有此工单。", "No such job."],
  rework_comment: ["返工意见", "Rework comment"],
  phone_hidden: ["工单已审核，顾客联系方式已隐藏", "Approved: customer contact hidden"],
  number_placeholder: ["数量", "Number"],
  text_placeholder: ["填写…", "Write…"],
  choose: ["请选择", "Choose"],
  quota_full: ["存储空间已满，照片未保存。请联网同步后再试。", "Storage is full; the photo was not saved. Sync, then try again."],
  photo_failed: ["照片处理失败，请重拍。", "The photo could not be processed. Take it again."],
  device: ["设备", "Device"],
  version: ["版本", "Version"],
  window: ["{start}–{end}", "{start}–{end}"],
  // Issue 8: parts requests and take-back repairs.
  parts_title: ["配件申请", "Parts"],
  parts_request: ["申请配件", "Request a part"],
  parts_send: ["提交配件申请", "Send parts request"],
  parts_saved: ["配件申请已保存，等待售后审批", "Parts request saved; waiting for after-sales approval"],
  part_name: ["配件名称", "Part name"],
  quantity: ["数量", "Quantity"],
  parts_kind: ["类型", "Kind"],
  parts_reason: ["原因（必填）", "Reason (required)"],
  parts_cause: ["问题原因（如已查明）", "Cause (if known)"],
  parts_photos: ["照片", "Photos"],
  parts_reason_placeholder: ["例如：柜门铰链断裂，需要更换", "e.g. the door hinge is broken and must be replaced"],
  kind_replacement: ["更换配件", "Replacement part"],
  kind_supplementary: ["补件", "Supplementary part"],
  kind_hint_replacement: ["更换配件需先上报售后部门批准。", "A replacement part needs after-sales approval first."],
  kind_hint_supplementary: ["补件须上报售后部门并说明原因。", "A supplementary part is reported to after-sales with a reason."],
  cause_unknown: ["尚未查明", "Not known yet"],
  cause_missing_in_delivery: ["送货漏发/缺件", "Missing in the delivery"],
  cause_damaged_in_transit: ["运输损坏", "Damaged in transport"],
  cause_manufacturing_defect: ["质量问题", "Quality defect"],
  cause_installation_damage: ["安装损坏", "Damaged during installation"],
  cause_wear: ["正常磨损", "Normal wear"],
  cause_customer_damage: ["人为损坏", "Damaged in use"],
  cause_other: ["其他", "Other"],
  part_name_needed: ["请填写配件名称。", "Name the part."],
  quantity_needed: ["数量须为 1 到 999 的整数。", "The quantity is a whole number from 1 to 999."],
  reason_needed_supplementary: ["补件必须说明原因。", "A supplementary part needs a reason."],
  parts_status_pending: ["待审批", "Waiting for approval"],
  parts_status_approved: ["已批准", "Approved"],
  parts_status_refused: ["未批准", "Refused"],
  parts_decision_reason: ["审批意见", "Decision"],
  parts_released: ["已出库", "Released from the warehouse"],
  photo_remove: ["删除照片", "Remove photo"],
  photos_max: ["最多 {n} 张照片", "At most {n} photos"],
  tb_take_back: ["带回维修", "Take back for repair"],
  tb_receipt: ["取件收据", "Take-back receipt"],
  tb_receipt_no: ["收据编号", "Receipt no."],
  tb_items: ["带回的物品", "Items taken"],
  tb_item_placeholder: ["物品名称", "Item"],
  tb_item_add: ["添加物品", "Add item"],
  tb_item_remove: ["删除物品", "Remove item"],
  tb_condition: ["物品状况", "Condition"],
  tb_condition_placeholder: ["例如：左扶手木架开裂，面料完好", "e.g. left armrest frame cracked, fabric intact"],
  tb_condition_photos: ["状况照片（至少 1 张）", "Condition photos (at least 1)"],
  tb_customer_signs: ["顾客在收据上签字", "Customer signs the receipt"],
  tb_sign_hint: ["请顾客确认带回的物品和状况后签字。", "The customer checks the items and their condition, then signs."],
  tb_agree_hint: ["需与顾客协商同意后才能带回。", "Take a product away only with the customer's agreement."],
  tb_save: ["保存收据", "Save receipt"],
  tb_saved: ["收据 {no} 已保存", "Receipt {no} saved"],
  tb_items_needed: ["请至少填写一件带回的物品。", "List at least one item taken."],
  tb_condition_needed: ["请描述物品状况。", "Describe the condition."],
  tb_photo_needed: ["请至少拍一张状况照片。", "Take at least one photo of the condition."],
  tb_receipt_promise: [
    "请顾客保管好收据：维修完毕送回时交回收据，并在维修单上签字。",
    "The customer keeps the receipt and hands it back when the repaired product comes back, then signs the repair slip."],
  tb_taken_at: ["取件时间", "Taken on"],
  tb_taken_title: ["已带回维修", "Taken back for repair"],
  done: ["完成", "Done"],
  tb_status_out: ["维修中", "Out for repair"],
  tb_status_returned: ["已送回", "Brought back"],
  tb_to_return: ["送回维修好的产品", "Bring back the repaired product"],
  tb_bring_back: ["送回产品", "Bring it back"],
  tb_returned_at: ["已于 {time} 送回", "Brought back {time}"],
  tb_collect_receipt: ["收回收据", "Collect the receipt"],
  tb_receipt_collected: ["收据已收回", "Receipt collected"],
  tb_receipt_lost: ["收据遗失", "Receipt lost"],
  tb_lost_note: ["说明（收据未收回）", "Note (receipt not collected)"],
  tb_lost_placeholder: ["例如：顾客收据遗失，已核对身份", "e.g. the customer lost it; identity checked"],
  tb_lost_note_needed: ["收据未收回时请写明原因。", "Write down why the receipt was not collected."],
  tb_slip_sign: ["顾客在维修单上签字", "Customer signs the repair slip"],
  tb_slip_hint: ["请顾客检查维修好的产品后签字。", "The customer checks the repaired product, then signs."],
  tb_return_save: ["确认送回", "Confirm return"],
  tb_return_saved: ["已记录送回", "Return recorded"],
  tb_unknown: ["没有此收据。", "No such receipt."],
  tb_already_returned: ["收据 {no} 已送回，不能重复送回。", "Receipt {no} was already brought back."],
  // Issue 16: the checklist in flow, photos, sign-off, the done moment, offline health.
  required_progress: ["必填 {done}/{total}", "Required {done}/{total}"],
  optional_progress: ["选填 {done}/{total}", "Optional {done}/{total}"],
  next_item: ["下一项：{label}", "Next: {label}"],
  next_photo: ["拍照：{label}", "Photo: {label}"],
  next_sign: ["顾客签字", "Customer signature"],
  next_complete: ["完工签收", "Sign-off"],
  next_step: ["下一步", "Next step"],
  sign_off_title: ["完工签收", "Sign-off"],
  summary: ["本次完成", "What was done"],
  summary_items: ["检查表：已答 {done}/{total} 项，必填 {rdone}/{rtotal}", "Checklist: {done}/{total} answered, required {rdone}/{rtotal}"],
  summary_photos: ["照片：{n} 张", "Photos: {n}"],
  summary_parts: ["配件申请：{n} 项", "Parts requests: {n}"],
  summary_takebacks: ["带回维修：{n} 件", "Taken back for repair: {n}"],
  summary_none: ["无", "none"],
  statement_title: ["顾客确认", "The customer confirms"],
  sign_and_complete: ["签字并完工", "Sign and complete"],
  signed_title: ["已签字", "Signed"],
  still_missing: ["完工前还缺：", "Still missing before completion:"],
  done_title: ["工单已完工", "Job completed"],
  done_waiting: [
    "尚未发送：{what}。联网后会自动发送，请勿清除浏览器数据。",
    "Not sent yet: {what}. It sends by itself when there is a network; do not clear the browser's data."],
  done_all_sent: ["全部已发送到办公室。", "Everything is sent to the office."],
  back_to_jobs: ["返回工单列表", "Back to the job list"],
  done_at: ["完工时间 {time}", "Completed {time}"],
  all_sent: ["✓ 全部已发送", "✓ All sent"],
  all_sent_at: ["✓ 全部已发送 {time}", "✓ All sent {time}"],
  waiting: ["{what}待发送", "{what} waiting"],
  list_sep: ["、", ", "],
  photo_view: ["查看照片 {n}", "View photo {n}"],
  photo_delete: ["删除照片", "Delete photo"],
  photo_retake: ["重拍", "Retake"],
  close: ["关闭", "Close"],
  photo_deleted: ["照片已删除", "Photo deleted"],
  photo_title: ["{label} · 照片 {n}", "{label} · photo {n}"],
  health_wechat: [
    "在微信里打开时，断网后工作可能丢失。请点右上角「···」，选择「在浏览器打开」。",
    "Inside WeChat, work may be lost without a network. Tap ··· at the top right and choose \"Open in Browser\"."],
  health_no_sw: [
    "此浏览器不能离线使用本应用，断网后工作可能丢失。请用手机自带的浏览器（如 Safari、Chrome）打开本页。",
    "This browser cannot run the app offline; work may be lost without a network. Open this page in the phone's own browser (Safari, Chrome)."],
  health_no_idb: [
    "此浏览器不能在手机上保存工作（可能是无痕模式）。请用系统浏览器的普通模式打开本页。",
    "This browser cannot keep work on the phone (private mode?). Open this page in the system browser, not in private mode."],
  health_not_controlled: ["离线功能还没准备好：请保持联网，重新打开一次本页。", "Offline mode is not ready yet: stay online and open this page once more."],
  health_not_persisted: [
    "浏览器可能会清理离线数据：请把本应用添加到主屏幕（浏览器菜单 →「添加到主屏幕」），并尽快联网同步。",
    "The browser may clear offline data: add the app to the home screen (browser menu → \"Add to Home screen\") and sync soon."],
  open_map: ["地图：{address}", "Map: {address}"],
  older_finished: ["另有 {n} 个更早的已完工工单保存在手机上。", "{n} older finished jobs are kept on this phone."],
  call_number: ["拨打 {phone}", "Call {phone}"],
};
const LANGUAGE_INDEX = { "zh-CN": 0, en: 1 };

const STATUS = {
  "zh-CN": { new: "新建", scheduled: "已排期", en_route: "在途", on_site: "已到达", in_progress: "服务中",
    paused: "已暂停", completed: "已完工", approved: "已审核", rework: "返工", unsuccessful: "未能完成", cancelled: "已取消" },
  en: { new: "New", scheduled: "Scheduled", en_route: "En route", on_site: "On site", in_progress: "In progress",
    paused: "Paused", completed: "Completed", approved: "Approved", rework: "Rework", unsuccessful: "Unsuccessful", cancelled: "Cancelled" },
};

// The button a technician taps to make each move.
const MOVE = {
  "zh-CN": { en_route: "出发", on_site: "已到达", in_progress: "开始服务", paused: "暂停", completed: "完工", unsuccessful: "无法完成" },
  en: { en_route: "On my way", on_site: "Arrived", in_progress: "Start work", paused: "Pause", completed: "Complete", unsuccessful: "Could not complete" },
};

// What the customer agrees to by signing, shown in both languages on the sign-off screen.
export const STATEMENT = {
  "zh-CN": "本人确认：以上服务已完工，我已检查产品，现场已清理干净。",
  en: "I confirm that the work listed above has been done, I have checked the product, and the site has been left clean.",
};

const SUPPORTED = ["zh-CN", "en"];
let current = "zh-CN";

export function pickLanguage(saved) {
  if (SUPPORTED.includes(saved)) return saved;
  const browser = (navigator.language || "zh-CN").toLowerCase();
  return browser.startsWith("en") ? "en" : "zh-CN";
}

export function setLanguage(lang) {
  current = SUPPORTED.includes(lang) ? lang : "zh-CN";
  document.documentElement.lang = current;
}

export const language = () => current;

export function t(key, vars = {}) {
  const text = MESSAGES[key]?.[LANGUAGE_INDEX[current]] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export const statusName = (s) => STATUS[current][s] || s;
export const moveName = (s) => MOVE[current][s] || statusName(s);
// Names the server's registries give (/app/registry.js), in the current language.
export const jobTypeName = (key) => label(REGISTRY.job_types[key]?.label) || key;
export const changeName = (type) => label(REGISTRY.mutation_types[type]?.label) || type;
export const reasonText = (code) => label(REGISTRY.reasons[code]) || code;

// A {"zh-CN": ..., "en": ...} label from the server, in the current language.
export function label(value) {
  if (!value) return "";
  return value[current] || value["zh-CN"] || value.en || "";
}

let timeZone = "Asia/Shanghai";
export function setBusinessTimeZone(zone) { if (zone) timeZone = zone; }
export const businessTimeZone = () => timeZone;

// Times as the office states them: in the business's timezone, 24-hour clock.
export function formatTime(iso, withDate = false) {
  if (!iso) return "—";
  const opts = withDate ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }
    : { hour: "2-digit", minute: "2-digit" };
  return new Date(iso).toLocaleString(current, { ...opts, hour12: false, timeZone });
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "?";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// Things a person understands, counted: {photo: 2, signature: 1, answer: 5} →
// "2 张照片、1 个签名、5 项回答" / "2 photos, 1 signature, 5 answers".
const THINGS = {
  "zh-CN": { photo: "{n} 张照片", signature: "{n} 个签字", answer: "{n} 项回答", status: "{n} 次状态变更",
    note: "{n} 条备注", part: "{n} 项配件申请", takeback: "{n} 张带回收据", other: "{n} 项其他记录" },
  en: { photo: ["{n} photo", "{n} photos"], signature: ["{n} signature", "{n} signatures"], answer: ["{n} answer", "{n} answers"],
    status: ["{n} status change", "{n} status changes"], note: ["{n} note", "{n} notes"], part: ["{n} parts request", "{n} parts requests"],
    takeback: ["{n} take-back receipt", "{n} take-back receipts"], other: ["{n} other change", "{n} other changes"] },
};
export const THING_ORDER = ["photo", "signature", "answer", "status", "note", "part", "takeback", "other"];

export function countThings(counts) {
  const parts = [];
  for (const kind of THING_ORDER) {
    const n = counts[kind] || 0;
    if (!n) continue;
    const form = THINGS[current][kind];
    const text = Array.isArray(form) ? form[n === 1 ? 0 : 1] : form;
    parts.push(text.replace("{n}", String(n)));
  }
  return parts.join(t("list_sep"));
}
