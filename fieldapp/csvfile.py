"""Every CSV the product writes goes through here: UTF-8 with a BOM (Excel as used in China
reads UTF-8 only with it), and no cell a spreadsheet would run as a formula.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`
(OWASP "CSV injection"): text a customer typed ("=HYPERLINK(...)") or a part name stays text
when the office opens the export."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows as CSV lines, every cell made safe (the header row too)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def csv_response(header: Iterable, batches: Iterable[Iterable[Iterable]], filename: str,
                 language: str | None = None) -> Response:
    """A CSV download streamed batch by batch: the BOM and the header once, then each batch
    of rows as it is read (so an export of every job never sits in memory)."""

    def chunks():
        yield BOM + csv_text([header])
        for rows in batches:
            yield csv_text(rows)

    response = Response(stream_with_context(chunks()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if language:
        response.headers["Content-Language"] = language
    return response
