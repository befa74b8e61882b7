// The phone's own words, zh-CN first (the technicians' language) and English.
// What the server names (job types, skills, kinds of change, why a change was refused) is not
// here: it comes from the server's registries, /app/registry.js, precached with the shell.
import { REGISTRY } from "/app/registry.js";

const MESSAGES = {
  "zh-CN": {
    app_name: "售后上门服务",
    sign_in: "登录", username: "用户名", password: "密码", signing_in: "正在登录…",
    sign_in_failed: "用户名或密码错误。", sign_in_offline: "没有网络，联网后才能首次登录。",
    sign_in_throttled: "登录失败次数过多，请稍后再试。",
    sign_in_again: "登录已过期，请重新登录。未同步的记录会保留。",
    sign_out: "退出登录", sign_out_pending: "还有 {n} 条记录未同步，退出后将在重新登录时继续同步。确定退出吗？",
    today: "今天", upcoming: "之后", earlier: "之前", no_jobs: "暂无工单。",
    offline: "离线", online: "在线", syncing: "同步中…", pending: "{n} 项记录",
    synced_at: "✓ 全部已发送 {time}", never_synced: "尚未同步", sync_now: "立即同步",
    sync_error: "同步失败，稍后自动重试",
    call: "拨打", map: "地图", phone: "电话", address: "地址", customer: "顾客", product: "产品型号", problem: "问题描述",
    dispatcher_notes: "调度备注", notes: "备注", add_note: "添加备注", save: "保存",
    note_placeholder: "记录现场情况…",
    status_actions: "工单状态", checklist: "检查表", required: "必填",
    yes: "是", no: "否", photos: "照片", take_photo: "拍照", photo_saving: "正在处理照片…",
    photos_count: "{have}/{need} 张", signature: "顾客签字", sign_here: "请顾客在此签字",
    signer_name: "签字人姓名", signer_relation: "与顾客关系", clear: "清除",
    save_signature: "保存签字", signature_saved: "已签字：{name}（{relation}）",
    signature_empty: "请先签字。", signer_needed: "请填写签字人姓名和关系。",
    relation_self: "本人", relation_family: "家属", relation_other: "其他",
    complete: "完工", complete_title: "完工检查", missing: "还缺以下内容：",
    all_done: "所有必填项已填好，可以完工。", confirm_complete: "确认完工",
    reason: "原因", reason_needed: "请填写原因。", could_not_complete: "无法完成",
    back: "返回", settings: "设置", language: "语言", storage: "本机存储",
    storage_used: "已用 {used} / 可用 {quota}", storage_warn: "手机存储空间快满了（已用 {pct}%）。请尽快联网同步。",
    storage_persisted: "数据已设为持久保存", storage_not_persisted: "浏览器可能会清理数据：请把应用添加到主屏幕",
    update_ready: "有新版本。", update_now: "更新",
    rejected: "服务器未接受：{reason}", rejected_change: "服务器未接受（{what}）：{reason}",
    still_missing_items: "{reason}还缺：{items}", conflict: "此工单已变更：您的记录已保留，调度员会处理。",
    notices: "提醒", dismiss: "知道了", inbox: "办公室消息", got_it: "知道了", open_job: "打开工单", item_answered: "已记录",
    job_removed: "此工单已不再分配给您。", not_found: "没有此工单。",
    rework_comment: "返工意见", phone_hidden: "工单已审核，顾客联系方式已隐藏",
    number_placeholder: "数量", text_placeholder: "填写…", choose: "请选择",
    quota_full: "存储空间已满，照片未保存。请联网同步后再试。",
    photo_failed: "照片处理失败，请重拍。",
    device: "设备", version: "版本",
    window: "{start}–{end}",
    // Issue 8: parts requests and take-back repairs.
    parts_title: "配件申请", parts_request: "申请配件", parts_send: "提交配件申请", parts_saved: "配件申请已保存，等待售后审批",
    part_name: "配件名称", quantity: "数量", parts_kind: "类型", parts_reason: "原因（必填）", parts_cause: "问题原因（如已查明）",
    parts_photos: "照片", parts_reason_placeholder: "例如：柜门铰链断裂，需要更换",
    kind_replacement: "更换配件", kind_supplementary: "补件",
    kind_hint_replacement: "更换配件需先上报售后部门批准。", kind_hint_supplementary: "补件须上报售后部门并说明原因。",
    cause_unknown: "尚未查明", cause_missing_in_delivery: "送货漏发/缺件", cause_damaged_in_transit: "运输损坏",
    cause_manufacturing_defect: "质量问题", cause_installation_damage: "安装损坏", cause_wear: "正常磨损",
    cause_customer_damage: "人为损坏", cause_other: "其他",
    part_name_needed: "请填写配件名称。", quantity_needed: "数量须为 1 到 999 的整数。",
    reason_needed_supplementary: "补件必须说明原因。",
    parts_status_pending: "待审批", parts_status_approved: "已批准", parts_status_refused: "未批准",
    parts_decision_reason: "审批意见", parts_released: "已出库",
    photo_remove: "删除照片", photos_max: "最多 {n} 张照片",
    tb_take_back: "带回维修", tb_receipt: "取件收据", tb_receipt_no: "收据编号", tb_items: "带回的物品",
    tb_item_placeholder: "物品名称", tb_item_add: "添加物品", tb_item_remove: "删除物品",
    tb_condition: "物品状况", tb_condition_placeholder: "例如：左扶手木架开裂，面料完好",
    tb_condition_photos: "状况照片（至少 1 张）", tb_customer_signs: "顾客在收据上签字",
    tb_sign_hint: "请顾客确认带回的物品和状况后签字。", tb_agree_hint: "需与顾客协商同意后才能带回。",
    tb_save: "保存收据", tb_saved: "收据 {no} 已保存", tb_items_needed: "请至少填写一件带回的物品。",
    tb_condition_needed: "请描述物品状况。", tb_photo_needed: "请至少拍一张状况照片。",
    tb_receipt_promise: "请顾客保管好收据：维修完毕送回时交回收据，并在维修单上签字。",
    tb_taken_at: "取件时间", tb_taken_title: "已带回维修", done: "完成",
    tb_status_out: "维修中", tb_status_returned: "已送回",
    tb_to_return: "送回维修好的产品", tb_bring_back: "送回产品", tb_returned_at: "已于 {time} 送回",
    tb_collect_receipt: "收回收据", tb_receipt_collected: "收据已收回", tb_receipt_lost: "收据遗失",
    tb_lost_note: "说明（收据未收回）", tb_lost_placeholder: "例如：顾客收据遗失，已核对身份",
    tb_lost_note_needed: "收据未收回时请写明原因。", tb_slip_sign: "顾客在维修单上签字",
    tb_slip_hint: "请顾客检查维修好的产品后签字。", tb_return_save: "确认送回", tb_return_saved: "已记录送回",
    tb_unknown: "没有此收据。", tb_already_returned: "收据 {no} 已送回，不能重复送回。",
    // Issue 16: the checklist in flow, photos, sign-off, the done moment, offline health.
    required_progress: "必填 {done}/{total}", optional_progress: "选填 {done}/{total}",
    next_item: "下一项：{label}", next_photo: "拍照：{label}", next_sign: "顾客签字", next_complete: "完工签收",
    next_step: "下一步",
    sign_off_title: "完工签收", summary: "本次完成", summary_items: "检查表：已答 {done}/{total} 项，必填 {rdone}/{rtotal}",
    summary_photos: "照片：{n} 张", summary_parts: "配件申请：{n} 项", summary_takebacks: "带回维修：{n} 件",
    summary_none: "无", statement_title: "顾客确认",
    sign_and_complete: "签字并完工", signed_title: "已签字", still_missing: "完工前还缺：",
    done_title: "工单已完工", done_waiting: "尚未发送：{what}。联网后会自动发送，请勿清除浏览器数据。",
    done_all_sent: "全部已发送到办公室。", back_to_jobs: "返回工单列表", done_at: "完工时间 {time}",
    all_sent: "✓ 全部已发送", all_sent_at: "✓ 全部已发送 {time}", waiting: "{what}待发送",
    list_sep: "、",
    photo_view: "查看照片 {n}", photo_delete: "删除照片", photo_retake: "重拍", close: "关闭",
    photo_deleted: "照片已删除", photo_title: "{label} · 照片 {n}",
    health_wechat: "在微信里打开时，断网后工作可能丢失。请点右上角「···」，选择「在浏览器打开」。",
    health_no_sw: "此浏览器不能离线使用本应用，断网后工作可能丢失。请用手机自带的浏览器（如 Safari、Chrome）打开本页。",
    health_no_idb: "此浏览器不能在手机上保存工作（可能是无痕模式）。请用系统浏览器的普通模式打开本页。",
    health_not_controlled: "离线功能还没准备好：请保持联网，重新打开一次本页。",
    health_not_persisted: "浏览器可能会清理离线数据：请把本应用添加到主屏幕（浏览器菜单 →「添加到主屏幕」），并尽快联网同步。",
    open_map: "地图：{address}", older_finished: "另有 {n} 个更早的已完工工单保存在手机上。", call_number: "拨打 {phone}",
  },
  en: {
    app_name: "fieldapp",
    sign_in: "Sign in", username: "User name", password: "Password", signing_in: "Signing in…",
    sign_in_failed: "Wrong user name or password.", sign_in_offline: "No network: the first sign-in needs a connection.",
    sign_in_throttled: "Too many failed sign-ins. Try again later.",
    sign_in_again: "Your sign-in expired. Sign in again; nothing unsynced is lost.",
    sign_out: "Sign out", sign_out_pending: "{n} records are not synced yet; they will sync after you sign in again. Sign out?",
    today: "Today", upcoming: "Upcoming", earlier: "Earlier", no_jobs: "No jobs.",
    offline: "Offline", online: "Online", syncing: "Syncing…", pending: "{n} changes",
    synced_at: "✓ All sent {time}", never_synced: "Not synced yet", sync_now: "Sync now",
    sync_error: "Sync failed; retrying by itself",
    call: "Call", map: "Map", phone: "Phone", address: "Address", customer: "Customer", product: "Product", problem: "Problem",
    dispatcher_notes: "Dispatcher notes", notes: "Notes", add_note: "Add note", save: "Save",
    note_placeholder: "What happened on site…",
    status_actions: "Job status", checklist: "Checklist", required: "required",
    yes: "Yes", no: "No", photos: "Photos", take_photo: "Take photo", photo_saving: "Processing photo…",
    photos_count: "{have}/{need}", signature: "Customer signature", sign_here: "Customer signs here",
    signer_name: "Signer's name", signer_relation: "Relation to customer", clear: "Clear",
    save_signature: "Save signature", signature_saved: "Signed: {name} ({relation})",
    signature_empty: "Please sign first.", signer_needed: "Fill in the signer's name and relation.",
    relation_self: "Customer", relation_family: "Family", relation_other: "Other",
    complete: "Complete", complete_title: "Completion check", missing: "Still missing:",
    all_done: "Every required item is done: the job can be completed.", confirm_complete: "Complete the job",
    reason: "Reason", reason_needed: "A reason is required.", could_not_complete: "Could not complete",
    back: "Back", settings: "Settings", language: "Language", storage: "Storage on this phone",
    storage_used: "{used} used of {quota}", storage_warn: "Phone storage is nearly full ({pct}% used). Sync soon.",
    storage_persisted: "Data is stored persistently", storage_not_persisted: "The browser may clear data: add the app to the home screen",
    update_ready: "A new version is ready.", update_now: "Update",
    rejected: "Not accepted by the server: {reason}", rejected_change: "Not accepted by the server ({what}): {reason}",
    still_missing_items: "{reason} Still missing: {items}", conflict: "This job changed: your evidence was kept for the office.",
    notices: "Notices", dismiss: "OK", inbox: "From the office", got_it: "Got it", open_job: "Open job", item_answered: "Recorded",
    job_removed: "This job is no longer assigned to you.", not_found: "No such job.",
    rework_comment: "Rework comment", phone_hidden: "Approved: customer contact hidden",
    number_placeholder: "Number", text_placeholder: "Write…", choose: "Choose",
    quota_full: "Storage is full; the photo was not saved. Sync, then try again.",
    photo_failed: "The photo could not be processed. Take it again.",
    device: "Device", version: "Version",
    window: "{start}–{end}",
    // Issue 8: parts requests and take-back repairs.
    parts_title: "Parts", parts_request: "Request a part", parts_send: "Send parts request", parts_saved: "Parts request saved; waiting for after-sales approval",
    part_name: "Part name", quantity: "Quantity", parts_kind: "Kind", parts_reason: "Reason (required)", parts_cause: "Cause (if known)",
    parts_photos: "Photos", parts_reason_placeholder: "e.g. the door hinge is broken and must be replaced",
    kind_replacement: "Replacement part", kind_supplementary: "Supplementary part",
    kind_hint_replacement: "A replacement part needs after-sales approval first.", kind_hint_supplementary: "A supplementary part is reported to after-sales with a reason.",
    cause_unknown: "Not known yet", cause_missing_in_delivery: "Missing in the delivery", cause_damaged_in_transit: "Damaged in transport",
    cause_manufacturing_defect: "Quality defect", cause_installation_damage: "Damaged during installation", cause_wear: "Normal wear",
    cause_customer_damage: "Damaged in use", cause_other: "Other",
    part_name_needed: "Name the part.", quantity_needed: "The quantity is a whole number from 1 to 999.",
    reason_needed_supplementary: "A supplementary part needs a reason.",
    parts_status_pending: "Waiting for approval", parts_status_approved: "Approved", parts_status_refused: "Refused",
    parts_decision_reason: "Decision", parts_released: "Released from the warehouse",
    photo_remove: "Remove photo", photos_max: "At most {n} photos",
    tb_take_back: "Take back for repair", tb_receipt: "Take-back receipt", tb_receipt_no: "Receipt no.", tb_items: "Items taken",
    tb_item_placeholder: "Item", tb_item_add: "Add item", tb_item_remove: "Remove item",
    tb_condition: "Condition", tb_condition_placeholder: "e.g. left armrest frame cracked, fabric intact",
    tb_condition_photos: "Condition photos (at least 1)", tb_customer_signs: "Customer signs the receipt",
    tb_sign_hint: "The customer checks the items and their condition, then signs.", tb_agree_hint: "Take a product away only with the customer's agreement.",
    tb_save: "Save receipt", tb_saved: "Receipt {no} saved", tb_items_needed: "List at least one item taken.",
    tb_condition_needed: "Describe the condition.", tb_photo_needed: "Take at least one photo of the condition.",
    tb_receipt_promise: "The customer keeps the receipt and hands it back when the repaired product comes back, then signs the repair slip.",
    tb_taken_at: "Taken on", tb_taken_title: "Taken back for repair", done: "Done",
    tb_status_out: "Out for repair", tb_status_returned: "Brought back",
    tb_to_return: "Bring back the repaired product", tb_bring_back: "Bring it back", tb_returned_at: "Brought back {time}",
    tb_collect_receipt: "Collect the receipt", tb_receipt_collected: "Receipt collected", tb_receipt_lost: "Receipt lost",
    tb_lost_note: "Note (receipt not collected)", tb_lost_placeholder: "e.g. the customer lost it; identity checked",
    tb_lost_note_needed: "Write down why the receipt was not collected.", tb_slip_sign: "Customer signs the repair slip",
    tb_slip_hint: "The customer checks the repaired product, then signs.", tb_return_save: "Confirm return", tb_return_saved: "Return recorded",
    tb_unknown: "No such receipt.", tb_already_returned: "Receipt {no} was already brought back.",
    // Issue 16: the checklist in flow, photos, sign-off, the done moment, offline health.
    required_progress: "Required {done}/{total}", optional_progress: "Optional {done}/{total}",
    next_item: "Next: {label}", next_photo: "Photo: {label}", next_sign: "Customer signature", next_complete: "Sign-off",
    next_step: "Next step",
    sign_off_title: "Sign-off", summary: "What was done", summary_items: "Checklist: {done}/{total} answered, required {rdone}/{rtotal}",
    summary_photos: "Photos: {n}", summary_parts: "Parts requests: {n}", summary_takebacks: "Taken back for repair: {n}",
    summary_none: "none", statement_title: "The customer confirms",
    sign_and_complete: "Sign and complete", signed_title: "Signed", still_missing: "Still missing before completion:",
    done_title: "Job completed", done_waiting: "Not sent yet: {what}. It sends by itself when there is a network; do not clear the browser's data.",
    done_all_sent: "Everything is sent to the office.", back_to_jobs: "Back to the job list", done_at: "Completed {time}",
    all_sent: "✓ All sent", all_sent_at: "✓ All sent {time}", waiting: "{what} waiting",
    list_sep: ", ",
    photo_view: "View photo {n}", photo_delete: "Delete photo", photo_retake: "Retake", close: "Close",
    photo_deleted: "Photo deleted", photo_title: "{label} · photo {n}",
    health_wechat: "Inside WeChat, work may be lost without a network. Tap ··· at the top right and choose \"Open in Browser\".",
    health_no_sw: "This browser cannot run the app offline; work may be lost without a network. Open this page in the phone's own browser (Safari, Chrome).",
    health_no_idb: "This browser cannot keep work on the phone (private mode?). Open this page in the system browser, not in private mode.",
    health_not_controlled: "Offline mode is not ready yet: stay online and open this page once more.",
    health_not_persisted: "The browser may clear offline data: add the app to the home screen (browser menu → \"Add to Home screen\") and sync soon.",
    open_map: "Map: {address}", older_finished: "{n} older finished jobs are kept on this phone.", call_number: "Call {phone}",
  },
};

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
  const text = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
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
