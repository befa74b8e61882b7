"""The service report (服务记录单) of one job as a PDF, in zh-CN or English (fpdf2, with the
Noto Sans CJK font that `make` installs, so Chinese renders as text, not boxes)."""
from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime

import qrcode
from flask import current_app, make_response, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp import labels
from fieldapp.blobstore import store
from fieldapp.core.standard_checklists import PHASE_LABELS, PHASES
from fieldapp.extensions import db
from fieldapp.jobs.models import ChecklistAnswer, Job, Photo, Review, Signature
from fieldapp.sealing.models import Seal

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_COLLECTION_NUMBER = 2  # Noto Sans CJK SC: Simplified Chinese glyph forms
FONT = "NotoSansCJK"


class FontMissing(RuntimeError):
    pass


def font_path() -> str:
    path = current_app.config.get("REPORT_FONT") or CJK_FONT
    if not os.path.exists(path):
        raise FontMissing(f"the CJK font {path} is missing: install the Debian package "
                          f"fonts-noto-cjk (`make` does) or set REPORT_FONT")
    return path


def pdf_lang(value: str | None) -> str:
    """'zh' or 'en' from ?lang= or a Babel locale."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def local_minute(value: datetime | None, tz) -> str:
    """A moment as the reader's wall clock, to the minute (a dash when there is none)."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"


def _answer_text(item, answer, photo_count: int, lang: str) -> str:
    label_key = "zh-CN" if lang == "zh" else "en"
    if item.kind == "photo":
        return _("%(n)d photo(s)", n=photo_count) if photo_count else "—"
    if answer is None:
        return "—"
    value = answer.value
    if item.kind == "check":
        text = _("Yes") if value is True else _("No") if value is False else str(value)
    elif item.kind == "choice":
        text = next((o.get("label", {}).get(label_key) or o.get("value")
                     for o in (item.options or []) if o.get("value") == value), str(value))
    else:
        text = str(value)
    if answer.note:
        text += f" ({answer.note})"
    return text


def image_for_pdf(store, sha256: str, max_px: int) -> io.BytesIO | None:
    """The blob as a downscaled RGB JPEG/PNG for the PDF (None if the bytes are gone)."""
    try:
        with store.open(sha256) as handle:
            image = Image.open(handle)
            image.load()
    except (OSError, FileNotFoundError):
        return None
    image.thumbnail((max_px, max_px))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        background.save(out, "PNG")
    else:
        image.convert("RGB").save(out, "JPEG", quality=80)
    out.seek(0)
    return out


def _qr_png(text: str) -> io.BytesIO:
    qr = qrcode.QRCode(border=1, box_size=6)
    qr.add_data(text)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out)
    out.seek(0)
    return out


def build_pdf(session: Session, job: Job, lang: str, store, verify_url: str | None, tz) -> bytes:
    with force_locale("en" if lang == "en" else "zh_CN"):
        return _build(session, job, lang, store, verify_url, tz)


def new_document(company: str, title: str, reference: str, *, title_ref: str,
                 footer: Callable[[int], str]):
    """An A4 page in the CJK font with the letterhead every document of ours carries: the
    company, the title and its reference, a rule; `footer(page_no)` at the foot of each page.
    The document also draws the shared pieces: `section(title)` and `pairs(rows)`."""
    class Document(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font(FONT, size=8)
            self.set_text_color(110)
            self.cell(0, 6, footer(self.page_no()), align="C")
            self.set_text_color(0)

        def section(self, text: str):
            self.ln(2)
            self.set_font(FONT, size=13)
            self.set_fill_color(232, 239, 248)
            self.cell(self.epw, 8, text, fill=True, new_x="LMARGIN", new_y="NEXT")
            self.ln(1)
            self.set_font(FONT, size=10)

        def pairs(self, rows):
            """Label / value rows; an empty value prints as a dash."""
            self.set_font(FONT, size=10)
            with self.table(col_widths=(28, 72), first_row_as_headings=False, line_height=6,
                            borders_layout="HORIZONTAL_LINES", padding=1) as table:
                for key, value in rows:
                    row = table.row()
                    row.cell(key, style=HEADING)
                    row.cell(value or "—")

        def photo_grid(self, images, cell_h: float, captions: bool = False):
            """Photos scaled into three columns, `(image, caption)` pairs; a caption (small
            print under the photo) only when `captions`. A row that does not fit starts a page."""
            gap, cell_w = 4, (self.epw - 8) / 3
            below, room = (9, 10) if captions else (4, 6)
            column = 0
            for image, caption in images:
                if column == 0 and self.get_y() + cell_h + room > self.h - 18:
                    self.add_page()
                x, y = self.l_margin + column * (cell_w + gap), self.get_y()
                self.image(image, x=x, y=y, w=cell_w, h=cell_h, keep_aspect_ratio=True)
                if captions:
                    self.set_xy(x, y + cell_h + 0.5)
                    self.set_font(FONT, size=7.5)
                    self.multi_cell(cell_w, 3.6, caption, max_line_height=3.6, new_x="LEFT",
                                    new_y="NEXT")
                column += 1
                if column == 3:
                    column = 0
                    self.set_xy(self.l_margin, y + cell_h + below)
                else:
                    self.set_xy(x + cell_w + gap, y)
            if column:
                self.set_xy(self.l_margin, self.get_y() + cell_h + below)

    HEADING = FontFace(fill_color=(245, 245, 245))
    pdf = Document(format="A4", unit="mm")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, fname=font_path(), collection_font_number=CJK_COLLECTION_NUMBER)
    pdf.set_title(f"{title} {title_ref}")
    pdf.set_creator("fieldapp")
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(FONT, size=11)
    pdf.set_text_color(90)
    pdf.cell(width, 6, company, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(FONT, size=20)
    pdf.cell(width * 0.55, 11, title)
    pdf.set_font(FONT, size=12)
    pdf.cell(width * 0.45, 11, reference, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(40, 90, 160)
    pdf.set_line_width(0.6)
    pdf.line(15, pdf.get_y() + 1, 15 + width, pdf.get_y() + 1)
    pdf.ln(4)
    return pdf


def _build(session: Session, job: Job, lang: str, store, verify_url: str | None, tz) -> bytes:
    label_key = "zh-CN" if lang == "zh" else "en"
    company = current_app.config.get("COMPANY_NAME") or _("After-sales service department")

    pdf = new_document(
        company, _("Service record"), _("%(label)s: %(value)s", label=_("Reference"), value=job.ref),
        title_ref=job.ref,
        footer=lambda n: " · ".join((job.ref, _("Service record"),
                                     _("Page %(n)s of %(total)s", n=n, total="{nb}"))))
    width = pdf.epw

    reviews = session.execute(select(Review).where(Review.job_id == job.id)
                              .order_by(Review.at, Review.id)).scalars().all()
    approval = next((r for r in reversed(reviews) if r.decision == "approve"), None)
    seal = session.execute(select(Seal).where(Seal.job_id == job.id)).scalar_one_or_none()
    technician = job.technician

    section, pairs = pdf.section, pdf.pairs

    section(_("Customer and job"))
    pairs([
        (_("Customer"), job.contact_name),
        (_("Phone"), job.contact_phone),
        (_("Address"), job.address),
        (_("Job type"), str(labels.JOB_TYPE.get(job.type, job.type))),
        (_("Product"), job.product_model),
        (_("Problem"), job.problem),
        (_("Technician"), technician.display_name if technician else "—"),
        (_("Scheduled"), f"{local_minute(job.scheduled_start, tz)} – {local_minute(job.scheduled_end, tz)}"),
        # Time of record (issue 16): when the technician did it, not when it synced.
        (_("Arrived on site"), local_minute(job.arrived_at, tz)),
        (_("Started"), local_minute(job.work_started_at, tz)),
        (_("Completed"), local_minute(job.completed_at, tz)),
        (_("Approved"), local_minute(job.approved_at, tz) + (
            f" · {approval.by.display_name}" if approval and approval.by else "")),
    ])

    # Work done: the checklist by phase, each item with its answer.
    answers = {a.item_key: a for a in session.execute(
        select(ChecklistAnswer).where(ChecklistAnswer.job_id == job.id)).scalars()}
    # Photos the technician took back (photo.remove) are not part of the record shown.
    photos = session.execute(select(Photo).where(Photo.job_id == job.id,
                                                 Photo.removed_at.is_(None))
                             .order_by(Photo.created_at, Photo.id)).scalars().all()
    photo_counts: dict[str, int] = {}
    for photo in photos:
        if photo.item_key:
            photo_counts[photo.item_key] = photo_counts.get(photo.item_key, 0) + 1
    items = list(job.template.items)
    section(_("Work done: checklist results"))
    for phase in PHASES:
        in_phase = [i for i in items if i.phase == phase]
        if not in_phase:
            continue
        pdf.set_font(FONT, size=11)
        pdf.set_text_color(40, 90, 160)
        pdf.cell(width, 7, PHASE_LABELS[phase][label_key], new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        pdf.set_font(FONT, size=9.5)
        with pdf.table(col_widths=(70, 30), line_height=5.5, padding=1,
                       borders_layout="HORIZONTAL_LINES",
                       headings_style=FontFace(fill_color=(245, 245, 245))) as table:
            head = table.row()
            head.cell(_("Item"))
            head.cell(_("Result"))
            for item in in_phase:
                row = table.row()
                text = item.label_zh if lang == "zh" else item.label_en
                if not item.required:
                    text += (" " + _("(optional)")) if lang == "en" else _("(optional)")
                row.cell(text)
                row.cell(_answer_text(item, answers.get(item.key),
                                      photo_counts.get(item.key, 0), lang))
        pdf.ln(1)

    # Photos, scaled, three to a row.
    if photos:
        section(_("Photos"))
        item_labels = {i.key: (i.label_zh if lang == "zh" else i.label_en) for i in items}

        def captioned():
            for photo in photos:
                image = image_for_pdf(store, photo.sha256, 900)
                if image is not None:
                    caption = photo.caption or item_labels.get(photo.item_key or "", "")
                    taken = local_minute(photo.at or photo.created_at, tz)
                    yield image, (caption[:60] + f" · {taken}").strip(" ·")

        pdf.photo_grid(captioned(), 48, captions=True)

    # The customer's signature.
    signatures = session.execute(select(Signature).where(Signature.job_id == job.id)
                                 .order_by(Signature.created_at)).scalars().all()
    if pdf.get_y() + 50 > pdf.h - 18:
        pdf.add_page()
    section(_("Customer's signature"))
    if signatures:
        signature = signatures[-1]
        image = image_for_pdf(store, signature.sha256, 600)
        y = pdf.get_y()
        if image is not None:
            pdf.image(image, x=15, y=y, w=60, h=28, keep_aspect_ratio=True)
        pdf.set_xy(80, y + 4)
        pdf.multi_cell(width - 65, 6, f"{signature.signer_name} ({signature.signer_relation})"
                       f"\n{local_minute(signature.at or signature.created_at, tz)}\nSHA-256 {signature.sha256[:16]}…",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(y + 30)
    else:
        pdf.cell(width, 6, "—", new_x="LMARGIN", new_y="NEXT")

    # The seal and its verification link.
    if pdf.get_y() + 50 > pdf.h - 18:
        pdf.add_page()
    section(_("Seal"))
    y = pdf.get_y()
    if seal is not None and verify_url:
        pdf.image(_qr_png(verify_url), x=15 + width - 36, y=y, w=36, h=36)
        pdf.set_font(FONT, size=9)
        text_w = width - 40
        pdf.multi_cell(text_w, 5, _("Signed off and sealed. The SHA-256 digest below covers "
                                    "the job, its answers, photos, signature and audit trail, "
                                    "chained to the previous seal."),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=8.5)
        # why "%(label)s: %(value)s": Chinese puts a full-width colon after its label.
        pdf.multi_cell(text_w, 5, "\n".join((
            _("%(label)s: %(value)s", label=_("Digest"), value=seal.digest),
            _("%(label)s: %(value)s", label=_("Previous"), value=seal.previous_digest),
            f"{_('Seal no.')} {seal.seq} · {local_minute(seal.sealed_at, tz)}",
            _("%(label)s: %(value)s", label=_("Verify"), value=verify_url))),
            new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 38))
    else:
        pdf.multi_cell(width, 6, _("Not signed off yet: this report has no seal."),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- Flask side: the download and the e-mail ------------------------------------------------

def verify_url(job_id: str) -> str | None:
    """The public verification page of the job's seal, absolute (PUBLIC_BASE_URL when set:
    the QR code on paper must point at the real server, not at whatever host the request came
    in on). None before sign-off."""
    digest = db.session.execute(select(Seal.digest).where(Seal.job_id == job_id)
                                ).scalar_one_or_none()
    if digest is None:
        return None
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("verify.seal_page", digest=digest)
    return url_for("verify.seal_page", digest=digest, _external=True)


def render(job: Job, lang: str) -> bytes:
    tz = current_app.extensions["fieldapp.policy"].tz
    return build_pdf(db.session, job, pdf_lang(lang), store(), verify_url(job.id), tz)


def pdf_response(job: Job, lang: str):
    lang = pdf_lang(lang)
    response = make_response(render(job, lang))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = \
        f'inline; filename="service-record-{job.ref}-{lang}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
