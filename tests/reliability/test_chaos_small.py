"""The bounded version of `bench/chaos.py` (issue 9): the real gunicorn server behind the
fault-injecting proxy, killed with SIGKILL and restarted while simulated phones do whole jobs
and a dispatcher reassigns; afterwards nothing acknowledged is lost, doubled or corrupted and
every phone's copy of its jobs equals the server's.

Both legs run it against a server of their own kind:
- SQLite leg (`make test`): a SQLite file in a temporary directory, gunicorn with one worker
  (SQLite's single writer; the durability under `kill -9` is the point, not throughput);
- PostgreSQL leg (`make test-pg`): its own database `chaos_t<pid>` created and dropped on the
  server named by FIELDAPP_TEST_DATABASE_URL (the suite's own database is never touched),
  gunicorn with two workers.
About 15 s (SQLite) to 30 s (PostgreSQL, busy machine): not marked `slow`. Seeded, so a
failure can be replayed with the same `--seed` on the command line.
"""
from __future__ import annotations

import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "bench")
PG_URL = os.environ.get("FIELDAPP_TEST_DATABASE_URL")

@pytest.fixture
def chaos():
    sys.path.insert(0, BENCH)
    try:
        import chaos as module

        yield module
    finally:
        sys.path.remove(BENCH)


def _database_args(tag: str) -> list[str]:
    if PG_URL:
        return ["--pg", PG_URL.rsplit("/", 1)[0], "--db-name", f"chaos_{tag}{os.getpid()}"]
    return ["--sqlite", "--workers", "1"]


def test_chaos_small_loses_nothing(chaos):
    args = ["--devices", "6", "--jobs-per-device", "4", "--duration", "25", "--seed", "20261124",
            "--kill-min", "1.5", "--kill-max", "3", "--dispatchers", "1",
            "--reassign-every", "0.2", "0.6", "--fault-rate", "0.3", *_database_args("t")]
    lines: list[str] = []
    result = chaos.main(args, log=lines.append)
    summary = "\n".join(lines)

    assert result["errors"] == [], summary
    assert result["mutations"] > 100, summary
    assert result["restarts"] >= 1, summary
    assert set(result["faults"]) == {"drop_request", "drop_response", "delay", "duplicate",
                                     "reorder"}, summary
    # Replays really happened (lost answers re-sent, duplicated requests) and were absorbed.
    assert result["device_counts"]["duplicate"] > 0, summary
    assert result["device_counts"].get("seq_gap", 0) == 0, summary
    assert result["lost"] == 0, summary
    assert result["duplicated"] == 0, summary
    assert result["corrupted"] == 0, summary
    assert result["diverged"] == 0, summary


def test_chaos_two_servers_with_s3_and_redis_loses_nothing(chaos, s3_endpoint, redis_url):
    """Issue 18's scale-out in small: two app servers (round robin behind the proxy), the
    blobs in an S3-compatible server, the rate limits in Redis (both started by the bench),
    either server killed at random; the phones also take photos back, ask for parts and
    take products away and back. (The fixtures only make sure moto and Redis are here.)"""
    args = ["--scale-out", "--devices", "4", "--jobs-per-device", "2", "--duration", "30",
            "--seed", "18", "--kill-min", "2", "--kill-max", "4", "--dispatchers", "1",
            "--reassign-every", "0.5", "1.5", "--fault-rate", "0.3", *_database_args("s")]
    lines: list[str] = []
    result = chaos.main(args, log=lines.append)
    summary = "\n".join(lines)

    assert result["errors"] == [], summary
    assert result["servers"] == 2 and result["s3"] and result["redis"], summary
    assert all(n > 0 for n in result["forwarded_by_server"]), summary
    assert result["restarts"] >= 1, summary
    for kind in ("photo.remove", "parts.request", "takeback.receipt", "takeback.return"):
        assert result["by_type"].get(kind, 0) > 0, (kind, summary)
    # (A server killed mid-upload may leave a local temporary file: the retention task
    # sweeps those after an hour, tests/notifications/test_timed_work.py.)
    assert result["blob_files"] > 0, summary
    assert result["lost"] == 0, summary
    assert result["duplicated"] == 0, summary
    assert result["corrupted"] == 0, summary
    assert result["diverged"] == 0, summary
