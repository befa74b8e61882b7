"""The take-back receipt (取件收据, given to the customer when a product leaves for repair)
and the repair slip (维修单, signed by the customer when it comes back), as PDFs in zh-CN or
English. Same font and image helpers as the service report (fieldapp/documents/service_report.py).

The wording is data with both languages (like the checklist labels): it is printed for the
customer and must not depend on a translation catalogue being compiled."""
from __future__ import annotations

from flask import current_app, make_response
from fpdf.fonts import FontFace

from fieldapp.blobstore import store
from fieldapp.documents.service_report import (
    FONT,
    image_for_pdf,
    local_minute,
    new_document,
    pdf_lang,
)
from fieldapp.parts.models import Takeback
from fieldapp.parts.service import item_text

WORDS = {
    "company": ("售后服务部", "After-sales service department"),
    "receipt": ("取件收据", "Take-back receipt"),
    "slip": ("维修单", "Repair slip"),
    "receipt_no": ("收据编号", "Receipt no."),
    "customer": ("顾客", "Customer"),
    "phone": ("电话", "Phone"),
    "address": ("地址", "Address"),
    "job": ("工单号", "Job"),
    "followup": ("送回工单", "Return job"),
    "product": ("产品型号", "Product"),
    "taken_at": ("取件时间", "Taken on"),
    "taken_by": ("取件人", "Taken by"),
    "returned_at": ("送回时间", "Brought back on"),
    "returned_by": ("送货人", "Brought back by"),
    "items": ("带回的物品", "Items taken for repair"),
    "item": ("物品", "Item"),
    "condition": ("取件时状况", "Condition when taken"),
    "photos": ("状况照片", "Condition photos"),
    "customer_signature": ("顾客签字", "Customer's signature"),
    "receipt_promise": ("产品已由我司带回维修。请保管好本收据：维修完毕送回时，请交回本收据，"
                        "并在维修单上签字。",
                        "The product has been taken away for repair. Keep this receipt: when "
                        "the repaired product is brought back, hand it back and sign the "
                        "repair slip."),
    "slip_promise": ("顾客确认已收到维修好的产品，收据已交回。",
                     "The customer confirms the repaired product was brought back and the "
                     "receipt handed back."),
    "retrieved": ("收据已收回", "Receipt collected"),
    "not_retrieved": ("收据未收回", "Receipt not collected"),
    "status": ("状态", "Status"),
    "out": ("维修中（产品在我司）", "Out for repair (with us)"),
    "returned": ("已送回", "Brought back"),
    "not_returned": ("尚未送回：顾客在产品送回时签字。",
                     "Not brought back yet: the customer signs when the product comes back."),
    "signed_by": ("签字人", "Signed by"),
    "page": ("第 {n} 页，共 {total} 页", "Page {n} of {total}"),
}


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return en if lang == "en" else zh


def build(takeback: Takeback, kind: str, lang: str, store, tz) -> bytes:
    w = lambda key: word(key, lang)  # noqa: E731
    job = takeback.job
    followup = takeback.followup_job
    title = w("receipt") if kind == "receipt" else w("slip")
    company = current_app.config.get("COMPANY_NAME") or w("company")

    pdf = new_document(company, title, f"{w('receipt_no')}: {takeback.receipt_no}",
                       title_ref=takeback.receipt_no,
                       footer=lambda n: f"{takeback.receipt_no} · {title} · "
                                        f"{w('page').format(n=n, total='{nb}')}")
    width = pdf.epw

    heading = FontFace(fill_color=(245, 245, 245))
    section, pairs = pdf.section, pdf.pairs

    status = w("returned") if takeback.status == "returned" else w("out")
    rows = [(w("customer"), job.contact_name), (w("phone"), job.contact_phone),
            (w("address"), job.address), (w("product"), job.product_model),
            (w("job"), job.ref),
            (w("taken_at"), local_minute(takeback.taken_at, tz)),
            (w("taken_by"), takeback.taken_by.display_name if takeback.taken_by else "—")]
    if kind == "slip":
        rows += [(w("followup"), followup.ref if followup else "—"),
                 (w("returned_at"), local_minute(takeback.returned_at, tz)),
                 (w("returned_by"),
                  takeback.returned_by.display_name if takeback.returned_by else "—")]
    rows.append((w("status"), status))
    pairs(rows)

    section(w("items"))
    pdf.set_font(FONT, size=10)
    with pdf.table(col_widths=(8, 92), line_height=6, padding=1,
                   borders_layout="HORIZONTAL_LINES", headings_style=heading) as table:
        head = table.row()
        head.cell("#")
        head.cell(w("item"))
        for n, item in enumerate(takeback.items or [], 1):
            row = table.row()
            row.cell(str(n))
            row.cell(item_text(item))
    section(w("condition"))
    pdf.multi_cell(width, 6, takeback.condition or "—", new_x="LMARGIN", new_y="NEXT")

    photos = takeback.photo_sha256s or []
    if photos and kind == "receipt":
        section(w("photos"))
        images = (image_for_pdf(store, sha, 900) for sha in photos[:9])
        pdf.photo_grid(((image, None) for image in images if image is not None), 44)

    if pdf.get_y() + 60 > pdf.h - 18:
        pdf.add_page()
    section(w("customer_signature"))
    pdf.set_font(FONT, size=10)
    if kind == "receipt":
        pdf.multi_cell(width, 6, w("receipt_promise"), new_x="LMARGIN", new_y="NEXT")
        sha, signer, at = (takeback.receipt_signature_sha256, takeback.signer_name,
                           takeback.taken_at)
    elif takeback.status == "returned":
        retrieved = w("retrieved") if takeback.receipt_retrieved is not False else \
            f"{w('not_retrieved')}: {takeback.return_note or '—'}"
        pdf.multi_cell(width, 6, f"{w('slip_promise')}\n{retrieved}", new_x="LMARGIN",
                       new_y="NEXT")
        sha, signer, at = (takeback.return_signature_sha256, takeback.return_signer_name,
                           takeback.returned_at)
    else:
        pdf.multi_cell(width, 6, w("not_returned"), new_x="LMARGIN", new_y="NEXT")
        sha = None
    pdf.ln(2)
    y = pdf.get_y()
    if sha:
        image = image_for_pdf(store, sha, 600)
        if image is not None:
            pdf.image(image, x=15, y=y, w=60, h=28, keep_aspect_ratio=True)
        pdf.set_xy(80, y + 4)
        pdf.multi_cell(width - 65, 6, f"{w('signed_by')}: {signer or job.contact_name}\n"
                       f"{local_minute(at, tz)}\nSHA-256 {sha[:16]}…", new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_draw_color(150)
        pdf.set_line_width(0.3)
        pdf.rect(15, y, 80, 28)
    pdf.set_y(y + 32)
    return bytes(pdf.output())


def render(takeback: Takeback, kind: str, lang: str) -> bytes:
    tz = current_app.extensions["fieldapp.policy"].tz
    return build(takeback, kind, pdf_lang(lang), store(), tz)


def pdf_response(takeback: Takeback, kind: str, lang: str):
    lang = pdf_lang(lang)
    response = make_response(render(takeback, kind, lang))
    response.headers["Content-Type"] = "application/pdf"
    name = "takeback-receipt" if kind == "receipt" else "repair-slip"
    response.headers["Content-Disposition"] = \
        f'inline; filename="{name}-{takeback.receipt_no}-{lang}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
