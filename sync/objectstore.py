"""The blob store on S3-compatible object storage (AWS S3, MinIO, Aliyun OSS, ...), so that
several app servers share one store: `FIELDAPP_BLOB_STORE=s3://bucket/prefix`.

An upload is received exactly as on files (`sync.blobs.ReceivingStore`: streamed into a local
temporary file, hashed, sniffed, decoded) and only then put, in one PUT request with its
Content-MD5: the object store refuses bytes that differ from what was checked, and a PUT is
atomic (a reader sees no object or the whole one). So no object ever exists under an address
its bytes do not hash to, and nothing is visible before it was checked.

Keys are `prefix/ab/cdef...` like the files. What a killed upload leaves is a local
temporary file (swept like the file store's); a single PUT leaves no half-made multipart
upload in the bucket.
"""
from __future__ import annotations

import base64
import io
import ipaddress
import os
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sync.blobs import CHUNK, Received, ReceivingStore, check_address

NOT_FOUND = ("404", "NoSuchKey", "NotFound")


class BadStoreUrl(ValueError):
    pass


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def client_for(endpoint: str | None = None, region: str | None = None,
               addressing: str | None = None):
    """A boto3 S3 client. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY, a profile, an instance role); the endpoint from the argument or
    AWS_ENDPOINT_URL (read by boto3 itself)."""
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL") or None
    if addressing is None:
        # An address like 127.0.0.1:9000 has no subdomains for virtual-hosted buckets.
        addressing = "path" if endpoint and _is_local(urlsplit(endpoint).hostname or "") \
            else "auto"
    if addressing not in ("path", "virtual", "auto"):
        raise BadStoreUrl(f"addressing must be path, virtual or auto, not {addressing!r}")
    config = Config(
        s3={"addressing_style": addressing},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5, read_timeout=60,
        # Content-MD5 is checked by every S3-compatible store; the newer default CRC
        # trailers are not understood by all of them (older MinIO, OSS).
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required")
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=region or None, config=config)


class ObjectReader(io.RawIOBase):
    """An object's bytes as a read-only file; iterating gives CHUNK-sized pieces (a
    response body streams without holding the photo)."""

    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        return iter(lambda: self._body.read(CHUNK), b"")

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3BlobStore(ReceivingStore):
    """Blobs as objects `prefix/ab/cdef...` in one bucket; the upload's temporary file in
    `incoming`, a local folder."""

    def __init__(self, bucket: str, prefix: str, incoming: str, client=None):
        if not bucket:
            raise BadStoreUrl("the blob store's URL names no bucket (s3://bucket/prefix)")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.incoming = incoming
        self.client = client or client_for()
        os.makedirs(self.incoming, exist_ok=True)

    @classmethod
    def from_url(cls, url: str, incoming: str, region: str | None = None) -> S3BlobStore:
        """`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=...&addressing=path`;
        the query is optional (AWS_ENDPOINT_URL, AWS_REGION otherwise)."""
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise BadStoreUrl(f"not an s3:// URL: {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region", "addressing"}
        if unknown:
            raise BadStoreUrl(f"unknown settings in the blob store's URL: {sorted(unknown)}")
        client = client_for(query.get("endpoint"), query.get("region") or region,
                            query.get("addressing"))
        return cls(parts.netloc, parts.path, incoming, client)

    def key(self, sha256: str) -> str:
        check_address(sha256)
        name = f"{sha256[:2]}/{sha256[2:]}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in NOT_FOUND:
                return False
            raise
        return True

    def open(self, sha256: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in NOT_FOUND:
                # The callers treat a missing blob like a missing file.
                raise FileNotFoundError(sha256) from None
            raise
        return ObjectReader(answer["Body"])

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))  # none: no error

    def names(self) -> list[str]:
        """Every object under the prefix, relative to it (`ab/cdef...`)."""
        found = []
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start)
        for page in pages:
            found.extend(item["Key"][len(start):] for item in page.get("Contents", ()))
        return sorted(found)

    def _publish(self, got: Received) -> None:
        with open(got.path, "rb") as body:  # botocore sends it from the file
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(got.sha256), Body=body,
                ContentLength=got.size, ContentType=got.content_type,
                ContentMD5=base64.b64encode(got.md5).decode(),
                Metadata={"sha256": got.sha256})
