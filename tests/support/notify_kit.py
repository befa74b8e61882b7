"""Helpers for the notification and scheduler tests."""
from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The desk's helpers (a signed-in web session, Shanghai times).
from tests.support.deskkit import Desk, sh  # noqa: F401


def notes(app, kind: str | None = None, user_id: int | None = None, job_id=None,
          complaint_id=None) -> list:
    """Notifications as (user_id, kind, job_id, complaint_id, subject) tuples."""
    from fieldapp.extensions import db
    from fieldapp.models import Notification

    with app.app_context():
        query = db.session.query(Notification)
        if kind:
            query = query.filter(Notification.kind == kind)
        if user_id is not None:
            query = query.filter(Notification.user_id == user_id)
        if job_id is not None:
            query = query.filter(Notification.job_id == job_id)
        if complaint_id is not None:
            query = query.filter(Notification.complaint_id == complaint_id)
        return [(n.user_id, n.kind, n.job_id, n.complaint_id, n.subject)
                for n in query.order_by(Notification.id)]


def run(app, *only):
    from fieldapp.scheduler.runner import run_once

    results = run_once(app, only=list(only) or None)
    for name, value in results.items():
        assert not str(value).startswith(("error", "skipped")), (name, value)
    return results


def counts(app) -> dict:
    from fieldapp.extensions import db
    from fieldapp.models import Delivery, Notification, ReturnVisit, RuleFiring

    with app.app_context():
        return {m.__name__: db.session.query(m).count()
                for m in (Notification, Delivery, RuleFiring, ReturnVisit)}


class _LocalServer:
    """A server on a free local port, served by a thread inside `with`."""

    def serve(self, server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class Hook(_LocalServer):
    """A real local HTTP server standing in for the SMS gateway: answers `status`, keeps
    every request (headers and raw body)."""

    def __init__(self, status: int = 500):
        self.status = status
        self.requests: list[tuple[dict, bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.requests.append((dict(self.headers), body))
                self.send_response(hook.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": hook.status < 300}).encode())

            def log_message(self, *args):
                pass

        self.serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"


class SmtpSink(_LocalServer):
    """Just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, QUIT) on a local socket to receive what
    the outbox sends: each message's envelope and raw bytes."""

    def __init__(self):
        sink = self
        self.messages: list[dict] = []

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 sink ESMTP")
                envelope = {"from": None, "to": [], "data": b""}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").strip()
                    upper = command.upper()
                    if upper.startswith("EHLO"):
                        self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                    elif upper.startswith("HELO"):
                        self.reply("250 sink")
                    elif upper.startswith("MAIL FROM:"):
                        envelope = {"from": command[10:].strip(), "to": [], "data": b""}
                        self.reply("250 OK")
                    elif upper.startswith("RCPT TO:"):
                        envelope["to"].append(command[8:].strip())
                        self.reply("250 OK")
                    elif upper == "DATA":
                        self.reply("354 go ahead")
                        chunks = []
                        while True:
                            data_line = self.rfile.readline()
                            if data_line in (b".\r\n", b".\n", b""):
                                break
                            chunks.append(data_line)
                        envelope["data"] = b"".join(chunks)
                        sink.messages.append(envelope)
                        self.reply("250 queued")
                    elif upper == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.serve(server)

    @property
    def port(self) -> int:
        return self.server.server_address[1]


def call_waiting_jobs(app, api) -> None:
    """Record the first call to every job still waiting for one (the demo's unassigned jobs),
    so a test's own job is the only first contact to break: breaches of one kind in one run
    make one notice, about the job itself only when it is alone."""
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        waiting = [j.id for j in db.session.query(Job).filter(Job.status == "new")]
    for job_id in waiting:
        answer = api.post(f"/api/v1/jobs/{job_id}/contact", as_="dispatcher1",
                          json={"outcome": "reached"})
        assert answer.status_code == 201, answer.get_json()
