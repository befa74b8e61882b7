"""The Chinese copy follows docs/glossary.md (issue 17): one name per thing, and full-width
punctuation where it meets Chinese text. Read from the server's catalogue (messages.po), the
phone's (static/app/js/i18n.js, its zh-CN strings) and the standard checklist's labels."""
from __future__ import annotations

import os
import re

from babel.messages.pofile import read_po

from fieldapp.core import standard_checklists
from fieldapp.core.checklist import SIGNATURE_ITEM
from tests.support.helpers import ROOT

# A word the glossary does not use -> the glossary's word for the same thing.
SYNONYMS = {
    "已完成": "已完工",          # a job's status and the sign-off: 完工
    "客户": "顾客",
    "签名": "签字",              # the customer's signature
    "检查清单": "检查表",
    "审核通过": "批准",          # the review's decision: 批准 / 返工
    "通过或返工": "批准或返工",
    "服务单号": "工单号",
    "工单编号": "工单号",
    "技师": "技术人员",
    "技术员": "技术人员",
    "满意度调查": "满意度问卷",
    "封印": "封存",
}

CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’]"
# ASCII , : ; ? ! ( ) touching Chinese text (spaces between do not excuse it).
MIXED = re.compile(rf"{CJK}\s*[,:;?!()]|[,:;?!()]\s*{CJK}")
# Placeholders are code, not copy: %(name)s, %s, {name}.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdf]|%[sd]|\{[a-z_]+\}")


def problems(text: str) -> list[str]:
    found = [f"{word} (glossary: {better})" for word, better in SYNONYMS.items()
             if word in text]
    bare = PLACEHOLDER.sub("X", text)
    found += [f"ASCII punctuation in Chinese: …{m.group(0)}…" for m in MIXED.finditer(bare)]
    return found


def server_catalogue() -> dict[str, str]:
    path = os.path.join(ROOT, "fieldapp", "translations", "zh", "LC_MESSAGES", "messages.po")
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    out = {}
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if text:
                out[message.id if isinstance(message.id, str) else message.id[0]] = text
    return out


def _js_block(source: str, start: str) -> str:
    """The text of a `"zh-CN": { ... }` object (or string) following `start`."""
    at = source.index(start)
    zh = source.index('"zh-CN":', at)
    rest = source[zh + len('"zh-CN":'):].lstrip()
    if rest.startswith('"'):
        return rest[:rest.index('",') + 1]
    depth = 0
    for i, char in enumerate(rest):
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return rest[:i + 1]
    raise AssertionError(f"unterminated zh-CN block after {start}")


def phone_catalogue() -> dict[str, str]:
    with open(os.path.join(ROOT, "static", "app", "js", "i18n.js"), encoding="utf-8") as handle:
        source = handle.read()
    out = {}
    blocks = [m.group(1) for m in re.finditer(r"^(?:export )?const ([A-Z_]+) = \{", source,
                                                re.M)]
    assert "MESSAGES" in blocks and "STATUS" in blocks, blocks
    # The phone's own words: `key: ["zh-CN", "English"]`, one line (or three) each.
    words = source[source.index("const MESSAGES = {"):]
    words = words[:words.index("\n};")]
    for key, value in re.findall(r'(\w+): \[\s*"((?:[^"\\]|\\.)*)",', words):
        out[f"MESSAGES.{key}"] = value
    assert len(out) > 150, "the phone's own zh-CN words were not found"
    for name in blocks:
        block = source[source.index(f"const {name} = {{"):]
        if '"zh-CN":' not in block[:block.find("\n};") if "\n};" in block else None]:
            continue
        text = _js_block(source, f"const {name} = {{")
        for key, value in re.findall(r'(\w+):\s*"((?:[^"\\]|\\.)*)"', text):
            out[f"{name}.{key}"] = value
        if text.startswith('"'):
            out[name] = text.strip('"')
    assert len(out) > 100, "the phone's zh-CN strings were not found"
    return out


def checklist_labels() -> dict[str, str]:
    out = {f"phase {key}": label["zh-CN"]
           for key, label in standard_checklists.PHASE_LABELS.items()}
    for job_type in standard_checklists.JOB_TYPES:
        for item in standard_checklists.items_for(job_type):
            out[item["key"]] = item["label"]["zh-CN"]
            for option in item.get("options") or ():
                out[f"{item['key']}={option['value']}"] = option["label"]["zh-CN"]
    out["signature item"] = SIGNATURE_ITEM.label["zh-CN"]
    return out


def _report(entries: dict[str, str]) -> list[str]:
    return [f"{key!r}: {text!r}: {', '.join(found)}"
            for key, text in sorted(entries.items()) if (found := problems(text))]


def test_the_rule_finds_what_it_is_for():
    assert problems("客户签名") and problems("检查清单") and problems("工单已完成")
    assert problems("已批准并封存:%(ref)s") and problems("(选填)") and problems("是,否")
    assert problems("确认; 完工") and problems("有问题?")
    assert not problems("已批准并封存：%(ref)s") and not problems("工单 FA261124-0002 (PNG)")
    assert not problems("%(name)s（%(relation)s）") and not problems("SHA-256: abc")


def test_server_catalogue_follows_the_glossary():
    bad = _report(server_catalogue())
    assert not bad, "zh-CN copy off the glossary (docs/glossary.md):\n" + "\n".join(bad)


def test_phone_catalogue_follows_the_glossary():
    bad = _report(phone_catalogue())
    assert not bad, "the phone's zh-CN copy off the glossary:\n" + "\n".join(bad)


def test_standard_checklist_follows_the_glossary():
    bad = _report(checklist_labels())
    assert not bad, "checklist labels off the glossary:\n" + "\n".join(bad)
