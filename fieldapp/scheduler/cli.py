"""`flask --app app scheduler run` (blocking) and `run-once [--now ISO8601] [--task NAME]`."""
from __future__ import annotations

import json
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from fieldapp.scheduler.runner import TASKS, interval, log, run_forever, run_once, start

scheduler_group = AppGroup("scheduler", help="The timed work: SLA escalations, return "
                           "visits, reminders, stale devices, blob retention, the outbox.")


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--now") \
            from None


@scheduler_group.command("run-once")
@click.option("--now", "now", default=None, help="Run as if it were this time (ISO 8601; "
              "no offset means UTC).")
@click.option("--task", "only", multiple=True, help="Only this task (repeatable).")
def run_once_command(now, only):
    """Run everything due once, then exit."""
    unknown = [name for name in only if name not in TASKS]
    if unknown:
        raise click.BadParameter(f"unknown task(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(TASKS)}", param_hint="--task")
    results = run_once(current_app._get_current_object(), _parse_now(now),
                       only=list(only) or None)
    click.echo(json.dumps(results, ensure_ascii=False, sort_keys=True, default=str))
    if any(isinstance(v, str) and v.startswith("error") for v in results.values()):
        raise SystemExit(1)


@scheduler_group.command("run")
def run_command():
    """Run the timed work every SCHEDULER_INTERVAL seconds until stopped (its own process;
    set FIELDAPP_SCHEDULER=0 for the web workers then)."""
    click.echo(f"scheduler running every {interval(current_app)}s; Ctrl+C stops it")
    try:
        run_forever(current_app._get_current_object())
    except (KeyboardInterrupt, SystemExit):
        pass


def init_app(app) -> None:
    """The `flask scheduler` commands; and, when SCHEDULER_ENABLED (not in TESTING), the
    in-process scheduler, started by the first request a process serves (so `flask db
    upgrade`, `flask seed-demo` and the other commands never start one)."""
    app.cli.add_command(scheduler_group)
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return

    @app.before_request
    def _start_scheduler():
        if app.extensions.get("fieldapp.scheduler") is None:
            try:
                start(app)
            except Exception:  # noqa: BLE001 - serving requests matters more
                log.exception("could not start the in-process scheduler")
                app.extensions["fieldapp.scheduler"] = False
