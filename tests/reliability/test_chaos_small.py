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


def test_chaos_small_loses_nothing(chaos):
    args = ["--devices", "6", "--jobs-per-device", "4", "--duration", "25", "--seed", "20261124",
            "--kill-min", "1.5", "--kill-max", "3", "--dispatchers", "1",
            "--reassign-every", "0.2", "0.6", "--fault-rate", "0.3"]
    if PG_URL:
        args += ["--pg", PG_URL.rsplit("/", 1)[0], "--db-name", f"chaos_t{os.getpid()}"]
    else:
        args += ["--sqlite", "--workers", "1"]
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
