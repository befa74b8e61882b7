"""The app's blob store (a local directory unless configured otherwise)."""
from flask import current_app

from sync.blobs import BlobStore, LocalBlobStore


def init_app(app) -> None:
    app.extensions["fieldapp.blobs"] = app.config.get("BLOB_STORE") or \
        LocalBlobStore(app.config["BLOB_ROOT"])


def store() -> BlobStore:
    return current_app.extensions["fieldapp.blobs"]
