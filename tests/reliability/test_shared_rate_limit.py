"""Several app servers share one rate limit when RATELIMIT_STORAGE_URI names a Redis (issue
18): two real server processes (gunicorn) against one database and one real Redis
(tests/support/services.py); failed sign-ins sent to each in turn reach the limit together.
The same two servers with the default `memory://` each count alone: the control showing the
sharing is Redis's doing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest

from tests.support.helpers import ROOT
from tests.support.services import free_port, stop, wait_for_port

LIMIT = 4  # failed sign-ins per minute per address and user name


def start_server(db_url: str, blob_dir: str, storage: str, prefix: str
                 ) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=db_url, SECRET_KEY="x" * 40, FIELDAPP_SCHEDULER="0",
               FIELDAPP_BLOB_DIR=blob_dir, FIELDAPP_ENV="development", PYTHONPATH=ROOT,
               FIELDAPP_DEMO_HISTORY="0", RATELIMIT_STORAGE_URI=storage,
               FIELDAPP_RATELIMIT_KEY_PREFIX=prefix,
               FIELDAPP_LOGIN_LIMIT=f"{LIMIT} per minute",
               FIELDAPP_LOGIN_ADDRESS_LIMIT="100 per minute")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def failed_sign_ins(servers: list[str], times: int) -> list[int]:
    """Wrong passwords for one user, sent to the servers in turn: the answers' codes."""
    codes = []
    for n in range(times):
        body = json.dumps({"username": "tech1", "password": "wrong-password",
                           "device_name": "pytest"}).encode()
        request = urllib.request.Request(f"{servers[n % len(servers)]}/api/v1/auth/login",
                                         data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                codes.append(answer.status)
        except urllib.error.HTTPError as refused:
            codes.append(refused.code)
    return codes


@pytest.fixture
def two_servers(db_url, demo, tmp_path):
    started = []

    def start(storage: str) -> list[str]:
        prefix = f"t{uuid.uuid4().hex}"  # tests (and workers) share the Redis
        both = [start_server(db_url, str(tmp_path / f"blobs{n}"), storage, prefix)
                for n in range(2)]
        started.extend(process for process, _ in both)
        for process, port in both:
            wait_for_port(port, process, seconds=90)
        return [f"http://127.0.0.1:{port}" for _, port in both]

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    for process in started:
        stop(process)


def test_two_app_servers_share_one_limit_in_redis(two_servers, redis_url):
    servers = two_servers(redis_url)
    codes = failed_sign_ins(servers, LIMIT + 2)
    # Two failures on each server, then the third on the first: the limit held for both.
    assert codes == [401] * LIMIT + [429, 429], codes


def test_without_redis_each_server_counts_alone(two_servers):
    servers = two_servers("memory://")
    codes = failed_sign_ins(servers, LIMIT + 2)
    assert codes == [401] * (LIMIT + 2), codes  # three each: none reached four
