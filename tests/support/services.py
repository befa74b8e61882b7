"""The real servers some tests need besides the database: an S3-compatible object store
(moto's standalone server) and Redis (Debian's redis-server).

`FIELDAPP_TEST_S3_ENDPOINT` (set by .ci/run, which starts one moto server for the whole
run) names the object store; without it the session starts its own moto server on a free
port, and the S3 tests skip only when moto is not installed. `FIELDAPP_TEST_REDIS_URL`
likewise names a Redis; without it a private redis-server is started (no persistence), and
the Redis tests skip only when the binary is missing."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from importlib.util import find_spec

import pytest

S3_BUCKET = "fieldapp-test"
# moto accepts any credentials; a real store's come from the environment.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "fieldapp-test", "AWS_SECRET_ACCESS_KEY": "fieldapp-test",
                    "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 30
                  ) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _serving(argv_for_port, url: str):
    """Start a server on a free port, wait until it listens, yield its URL, stop it after."""
    port = free_port()
    process = subprocess.Popen(argv_for_port(port), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield url.format(port=port)
    finally:
        stop(process)


def moto_server():
    """A moto S3 server on a free port for as long as the block runs: its endpoint URL."""
    return _serving(lambda port: [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                  "-p", str(port)], "http://127.0.0.1:{port}")


def redis_server():
    """A private redis-server on a free port, nothing saved to disk: its URL."""
    return _serving(lambda port: [shutil.which("redis-server"), "--port", str(port),
                                  "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                    "redis://127.0.0.1:{port}/0")


def s3_available() -> bool:
    return bool(os.environ.get("FIELDAPP_TEST_S3_ENDPOINT")) or find_spec("moto") is not None


def redis_available() -> bool:
    return bool(os.environ.get("FIELDAPP_TEST_REDIS_URL")) or bool(shutil.which("redis-server"))


def use_fake_credentials() -> None:
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def make_bucket(endpoint: str) -> None:
    from sync.objectstore import client_for  # why: boto3 only where S3 tests run

    client_for(endpoint).create_bucket(Bucket=S3_BUCKET)  # again: answers as before


def s3_store_url(endpoint: str) -> str:
    """A prefix of its own per test: tests (and xdist workers) share the bucket."""
    return f"s3://{S3_BUCKET}/t-{uuid.uuid4().hex}?endpoint={endpoint}"


def both_blob_stores():
    """`pytestmark = both_blob_stores()`: every test of the module on files and on S3."""
    return pytest.mark.parametrize("blob_store_config", ["file", "s3"], indirect=True)
