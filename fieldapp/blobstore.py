"""The app's blob store: a local directory (`FIELDAPP_BLOB_DIR`), or an S3-compatible
object store when `FIELDAPP_BLOB_STORE=s3://bucket/prefix` (several app servers then share
it)."""
from flask import current_app

from sync.blobs import BlobStore, LocalBlobStore


def make_store(config) -> BlobStore:
    url = (config.get("BLOB_STORE_URL") or "file").strip()
    if url == "file":
        return LocalBlobStore(config["BLOB_ROOT"])
    if url.startswith("s3://"):
        from sync.objectstore import S3BlobStore  # why: boto3 is slow to import; S3 only

        # The upload's temporary file stays local, beside where the files would be.
        incoming = config.get("BLOB_INCOMING") or f"{config['BLOB_ROOT']}/.incoming"
        return S3BlobStore.from_url(url, incoming, region=config.get("AWS_REGION"))
    raise RuntimeError(f"FIELDAPP_BLOB_STORE must be 'file' or 's3://bucket/prefix', not {url!r}")


def init_app(app) -> None:
    app.extensions["fieldapp.blobs"] = app.config.get("BLOB_STORE") or make_store(app.config)


def store() -> BlobStore:
    return current_app.extensions["fieldapp.blobs"]
