"""Hostile values in a mutation's args, whatever its type: what cannot be stored or sent back as
strict JSON (NaN, lone surrogates, NUL, huge numbers, deep nesting) is refused before any
schema reads it, and `printable` makes a value safe to echo back. The types themselves are in
`sync/registry.py`."""
from __future__ import annotations

import math

# Bounds of any value in a mutation's args, whatever its field: no field takes more text than
# a note (4000), and a phone never nests deeper than a take-back's item list.
MAX_STRING = 10_000
MAX_DEPTH = 8
MAX_ITEMS = 200
SAFE_INTEGER = 2 ** 53  # beyond it JavaScript's numbers (the phone's) lose digits


class MutationInvalid(Exception):
    def __init__(self, code: str, details: dict):
        super().__init__(code)
        self.code, self.details = code, details


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored or sent as JSON text, or None. A lone UTF-16 surrogate
    (JavaScript string slicing makes them) has no UTF-8 form; PostgreSQL refuses NUL."""
    if "\x00" in text:
        return "nul_byte"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "lone_surrogate"
    if len(text) > MAX_STRING:
        return "too_long"
    return None


def value_problem(value, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first hostile value inside a JSON value, as (path, problem), or None.

    Hostile: a number that is not finite (Python's JSON parser reads NaN and Infinity) or
    beyond a phone's exact integers, text that `text_problem` refuses (object keys included),
    nesting deeper than MAX_DEPTH, a list or object longer than MAX_ITEMS."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "non_finite_number")
    if isinstance(value, int):
        return None if -SAFE_INTEGER <= value <= SAFE_INTEGER else (path, "number_out_of_range")
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    if depth >= MAX_DEPTH:
        return path, "too_deep"
    if isinstance(value, (list, tuple)):  # tuples: in the details the server writes
        if len(value) > MAX_ITEMS:
            return path, "too_many_items"
        for index, item in enumerate(value):
            found = value_problem(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            return path, "too_many_items"
        for key, item in value.items():
            key = key if isinstance(key, str) else str(key)  # a list index in error messages
            key_problem = text_problem(key) if len(key) <= 200 else "too_long"
            child = f"{path}.{printable(key)}" if path else printable(key)
            if key_problem:
                return child, key_problem
            found = value_problem(item, child, depth + 1)
            if found:
                return found
        return None
    return path, "not_json"


def printable(value, limit: int = 200):
    """`value` made safe to echo back in an answer and to store in the mutation log: numbers
    that are not finite become their name, text loses NUL and lone surrogates (escaped as
    `\\udxxx`) and is cut to `limit`; lists and objects likewise, to a small depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan", "inf", "-inf"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SAFE_INTEGER:
        return str(value)[:limit]
    if isinstance(value, str):
        cut = value[:limit]
        if text_problem(cut):
            cut = cut.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
        return cut
    if isinstance(value, (list, tuple)):
        return [printable(v, limit) for v in value[:50]] if limit > 20 else "[...]"
    if isinstance(value, dict):
        return ({printable(str(k), 60): printable(v, limit // 2) for k, v in
                 list(value.items())[:50]} if limit > 20 else "{...}")
    return value
