"""Downscaled evidence for the review's pages: a job's photos and signatures (pages.py), a
parts request's or take-back's (parts.py)."""
from __future__ import annotations

import io

from flask import abort
from PIL import Image

from fieldapp.blobstore import store

THUMB_PX = 320


def thumbnail(sha256: str, keep_alpha: bool) -> tuple[bytes, str]:
    """The stored image at most THUMB_PX a side: (bytes, content type). With `keep_alpha`,
    an image with transparency stays a PNG (a signature on its clear background); else JPEG.
    No such image, or no image at all: 404."""
    try:
        with store().open(sha256) as handle:
            image = Image.open(handle)
            image.load()
    except OSError:
        abort(404)
    image.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    if keep_alpha and image.mode in ("RGBA", "LA", "P"):
        image.convert("RGBA").save(out, "PNG")
        return out.getvalue(), "image/png"
    image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue(), "image/jpeg"
