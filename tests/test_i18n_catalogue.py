"""Every user-facing string in the server's code and templates has its zh-CN translation."""
import os

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.support.helpers import ROOT

METHODS = [("fieldapp/**.py", "python"), ("templates/**.html", "jinja2"),
           ("fieldapp/**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_to_chinese():
    path = os.path.join(ROOT, "fieldapp", "translations", "zh", "LC_MESSAGES", "messages.po")
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(source_messages() - translated)
    assert not missing, f"add zh-CN translations (make messages): {missing}"
    assert len(translated) > 50


def test_catalogue_compiles_without_errors():
    """What `pybabel compile` (run by make) refuses, such as placeholders that differ
    between a message and its translation, fails here too."""
    path = os.path.join(ROOT, "fieldapp", "translations", "zh", "LC_MESSAGES", "messages.po")
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert not problems, problems
