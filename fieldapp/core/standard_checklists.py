"""The standard on-site checklist for technicians, as plain data.

Taken from the company's own rules (seed-rules.md section 4, "On-site checklist for
technicians"; the furniture after-sales system in seed 004, line 78). The zh-CN labels trim
the Chinese originals quoted there; items with no original (photos, text answers, the
inspection visit) say so in their "source".

Mapping of the rules' markers: D (delivery/installation) -> "delivery" and "installation";
R (repair) -> "repair"; All -> all four job types. An "inspection" visit assesses a problem on
site without repairing it: it gets the All items, the repair pre-checks that are really an
assessment (damage analysis, parts/man-made damage check, photo of the damage) and a findings
text item.

"required" marks the rules the company stresses that a technician can confirm on site;
etiquette and preparation items are listed but not required. The completion rule itself
(required items satisfied + customer signature) lives in `checklist.py`.
"""
from __future__ import annotations

import copy

from .job_types import JOB_TYPES

PHASES = ("before_leaving", "arrival", "during", "completion", "leaving")

PHASE_LABELS = {
    "before_leaving": {"zh-CN": "出发前", "en": "Before leaving"},
    "arrival": {"zh-CN": "到达与进门", "en": "Arrival"},
    "during": {"zh-CN": "服务过程中", "en": "During the work"},
    "completion": {"zh-CN": "完工与签收", "en": "Completion and sign-off"},
    "leaving": {"zh-CN": "离开", "en": "Leaving"},
}

KINDS = ("check", "photo", "text", "number", "choice")

_ALL = JOB_TYPES
_D = ("delivery", "installation")
_R = ("repair",)
_RI = ("repair", "inspection")

# Options of the customer's inspection (acceptance) result, shared by the two choice items.
_ACCEPTANCE_OPTIONS = (
    {"value": "accepted", "label": {"zh-CN": "验收合格，满意", "en": "Accepted, satisfied"}},
    {"value": "accepted_with_remarks",
     "label": {"zh-CN": "有意见，但已验收", "en": "Accepted with remarks"}},
    {"value": "refused", "label": {"zh-CN": "拒绝验收", "en": "Refused"}},
)


def _item(key, phase, kind, required, job_types, zh, en, source, *, min_photos=None,
          options=None):
    return {
        "key": key,
        "phase": phase,
        "kind": kind,
        "required": required,
        "job_types": tuple(job_types),
        "label": {"zh-CN": zh, "en": en},
        "min_photos": min_photos,
        "options": [copy.deepcopy(o) for o in options] if options is not None else None,
        "source": source,
    }


STANDARD_ITEMS = [
    # --- before_leaving -------------------------------------------------------------------
    # The rules word these two for delivery; an installer gets the same duty in the words
    # of an installation, so that no one ticks "before delivery" on an install job.
    _item("goods_checked_before_delivery", "before_leaving", "check", False, ("delivery",),
          "送货前开封检查确认后再打包送货",
          "Before delivery, unpack and check the goods, then repack them",
          "seed-rules 4.1 #2; 004 L78 §3.4"),
    _item("fittings_checked_before_install", "before_leaving", "check", False,
          ("installation",),
          "出发前核对安装所需的配件、五金和安装图纸是否齐全",
          "Before leaving, check that the fittings, hardware and drawings are complete",
          "seed-rules 4.1 #2 (worded for installation); 004 L78 §3.4"),
    _item("call_customer_before_delivery", "before_leaving", "check", False, ("delivery",),
          "送货前主动打电话与顾客联系，确认地址、送货时间、产品型号",
          "Phone the customer before delivery: confirm address, time and product model",
          "seed-rules 4.1 #3; 004 L78 §3.2"),
    _item("call_customer_before_install", "before_leaving", "check", False,
          ("installation",),
          "上门安装前主动打电话与顾客联系，确认地址、安装时间、产品型号和安装位置",
          "Phone the customer before the installation: confirm address, time, product model "
          "and where it goes",
          "seed-rules 4.1 #3 (worded for installation); 004 L78 §3.2"),
    _item("prepared_for_visit", "before_leaving", "check", False, _ALL,
          "按要求穿着工装、佩带工号牌，准备好上门所需的工具",
          "Wear the work uniform and badge; pack the tools you need",
          "seed-rules 4.1 #4, #6; 004 L78 §11(10.3.8-10.3.9)"),
    _item("spare_parts_packed", "before_leaving", "check", False, _R,
          "尽量携带维修可能用到的工具和备用配件",
          "Bring the tools and spare parts the repair may need",
          "seed-rules 4.1 #4; 004 L78 §5.1"),
    _item("damage_analysed", "before_leaving", "check", False, _RI,
          "充分理解顾客信息，分析损坏现象，判断损坏原因",
          "Read the customer information; work out the likely cause of the damage",
          "seed-rules 4.1 #5; 004 L78 §11(10.3.10)"),
    _item("avoid_rest_meal_times", "before_leaving", "check", False, _ALL,
          "尽量避免在顾客休息或用餐时间上门",
          "Avoid visiting at the customer's rest or meal times",
          "seed-rules 4.1 #9; 004 L78 §11(10.3.26)"),
    # --- arrival --------------------------------------------------------------------------
    _item("id_before_entry", "arrival", "check", True, _ALL,
          "佩带工号牌或出示相关证件后才能进入顾客场所",
          "Wear your badge or show ID before entering the customer's premises",
          "seed-rules 4.2 #11; 004 L78 §5.1, §3.13"),
    _item("greet_customer", "arrival", "check", False, _ALL,
          "见到顾客要微笑，主动问候并自我介绍",
          "Smile, greet the customer first and introduce yourself",
          "seed-rules 4.2 #12; 004 L78 §11(10.3.12)"),
    _item("shoe_covers", "arrival", "check", True, _ALL,
          "进入顾客家前穿上自备的鞋套",
          "Put on your own shoe covers before entering the customer's home",
          "seed-rules 4.2 #13; 004 L78 §3.7, §5.5, §11(10.3.20)"),
    _item("customer_consent", "arrival", "check", True, _ALL,
          "询问安装地点或损坏情况，经顾客同意方可进行服务",
          "Ask about the install spot or the damage; start only with the customer's consent",
          "seed-rules 4.2 #15; 004 L78 §11(10.3.18)"),
    # --- during ---------------------------------------------------------------------------
    _item("lift_no_drag", "during", "check", True, _D,
          "轻抬轻放，严禁在地板上拖、拉、推",
          "Lift and set down gently; never drag, pull or push on the floor",
          "seed-rules 4.3 #16; 004 L78 §3.8"),
    _item("assemble_on_carton", "during", "check", True, _D,
          "在开封的包装箱上组装，严禁在地板上直接组装",
          "Assemble on the opened carton, never directly on the floor",
          "seed-rules 4.3 #17; 004 L78 §3.9, §11(10.3.21)"),
    _item("install_to_spec", "during", "check", False, _D,
          "严格按照要求安装，严禁少装、漏装、不装或错装",
          "Install exactly to spec: no missing, skipped or wrong parts",
          "seed-rules 4.3 #18; 004 L78 §11(10.3.19)"),
    _item("damage_photo", "during", "photo", True, _RI,
          "处理前拍照记录损坏情况",
          "Photograph the damage before any work",
          "brief (evidence; no original wording); seed-rules 4.3 #19", min_photos=1),
    _item("parts_and_tampering_checked", "during", "check", True, _RI,
          "确认货品内部部件是否齐全、是否有人为破坏的痕迹；若有不符立即跟顾客说明",
          "Check the parts are complete and look for signs of man-made damage; "
          "tell the customer at once if anything is wrong",
          "seed-rules 4.3 #19; 004 L78 §11(10.3.22)"),
    _item("handle_gently", "during", "check", False, _ALL,
          "对顾客的物品要轻拿轻放，摆放物品要有次序",
          "Handle the customer's belongings gently and keep things orderly",
          "seed-rules 4.3 #20; 004 L78 §3.14, §5.6, §11(10.3.27)"),
    _item("three_donts", "during", "check", False, _ALL,
          "做到“三不要”：不要吃喝送礼、不要随意触动顾客东西、不要随意评论",
          "The three don'ts: no eating, drinking or gifts; don't touch the customer's "
          "things; no casual comments",
          "seed-rules 4.3 #21; 004 L78 §11(10.3.14-10.3.17), §5.4"),
    _item("take_back_receipt", "during", "check", False, _R,
          "不能现场处理的，与顾客协商后带回，开具收据交予顾客",
          "Can't fix it here: agree with the customer to take it back and give a receipt",
          "seed-rules 4.3 #24; 004 L78 §11(10.3.25), §5.3"),
    # --- completion -----------------------------------------------------------------------
    _item("goods_in_place_photo", "completion", "photo", True, _D,
          "货物摆放到位开封后拍照",
          "Photo of the goods in place after unpacking",
          "seed-rules 4.4 #29; 004 L78 §3.10 (photo: brief)", min_photos=1),
    _item("pieces_delivered", "completion", "number", False, ("delivery",),
          "确认送达产品数量（件）",
          "Number of pieces delivered",
          "seed-rules 4.4 #34; 004 L303"),
    _item("customer_inspection", "completion", "choice", True, _D,
          "请顾客对开封货物进行验收检查，然后正式签收",
          "The customer inspects the unpacked goods, then signs for them",
          "seed-rules 4.4 #29; 004 L78 §3.10", options=_ACCEPTANCE_OPTIONS),
    _item("repair_result", "completion", "text", True, _R,
          "填写维修处理结果",
          "Write down the repair result (what was done)",
          "seed-rules 4.4 #33, 4.5 #38; 004 L78 §5.7; 004 L121"),
    _item("repair_result_photo", "completion", "photo", True, _R,
          "维修后拍照记录结果",
          "Photo of the result after the repair",
          "brief (evidence; no original wording); seed-rules 4.4 #33", min_photos=1),
    _item("repair_acceptance", "completion", "choice", True, _R,
          "请顾客验收维修结果，满意后签字确认",
          "The customer inspects the repair result, then signs",
          "seed-rules 4.4 #32, #33, #35; 004 L122, L98; 004 L78 §5.3",
          options=_ACCEPTANCE_OPTIONS),
    _item("inspection_findings", "completion", "text", True, ("inspection",),
          "记录损坏现象和判断的损坏原因",
          "Write down the findings: what is damaged and the likely cause",
          "seed-rules 4.1 #5; 004 L78 §11(10.3.10) (inspection item: brief)"),
    _item("debris_cleared", "completion", "check", True, _ALL,
          "将服务产生的垃圾清理干净并随手带走",
          "Clear up all debris from the job and take it away",
          "seed-rules 4.4 #30; 004 L78 §3.14, §5.6, §11(10.3.28)"),
    _item("site_clean_photo", "completion", "photo", True, _ALL,
          "清理后拍照记录现场",
          "Photo of the site after clean-up",
          "brief (evidence; no original wording); seed-rules 4.4 #30", min_photos=1),
    _item("service_record", "completion", "check", True, _ALL,
          "认真填写服务记录单据，请顾客填写相应内容并签字",
          "Fill in the service record; the customer fills in their part and signs",
          "seed-rules 4.4 #31; 004 L78 §11(10.3.29)"),
    # --- leaving --------------------------------------------------------------------------
    _item("farewell", "leaving", "check", False, _ALL,
          "与顾客告别，询问是否还有其他问题；得到顾客满意允许后方可离开",
          "Say goodbye and ask if there is anything else; leave only once the customer agrees",
          "seed-rules 4.5 #36; 004 L78 §11-tail"),
]


def items_for(job_type: str) -> list[dict]:
    """The standard items for one job type, in order (a fresh list of dict copies)."""
    if job_type not in JOB_TYPES:
        raise ValueError(f"unknown job type: {job_type!r}")
    return [copy.deepcopy(item) for item in STANDARD_ITEMS if job_type in item["job_types"]]
