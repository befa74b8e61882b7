"""The timed work (issue 7): a registry of tasks, a lease per task in the database, and three
ways to run them:

- in-process: `start(app)` (called by the app factory when SCHEDULER_ENABLED) starts an
  APScheduler BackgroundScheduler that calls `run_once` every SCHEDULER_INTERVAL seconds;
- `flask --app app scheduler run`: the same loop as its own (blocking) process, for larger
  deployments (set SCHEDULER_ENABLED=0 for the web workers then);
- `flask --app app scheduler run-once [--now ISO8601]`: everything due, once, then exit.

However many processes do this, one instance runs each task at a time: the one holding the
task's `SchedulerLease` row. The lease is only the first line: every task is idempotent on
its own (unique keys: `RuleFiring`, `Notification`, `Delivery`, `ReturnVisit.job_id`), so two
processes that both ran a task would still not double anything.

Leases expire on the wall clock (they measure a process's liveness, not business time);
the tasks' "now" is the app's injected clock, or `--now`.

Modules: `registry.py` (the tasks' registry), `tasks.py` (the tasks, calling the domains'
services), `timed.py` (what the timed rules do), `runner.py` (leases, `run_once`, the
in-process scheduler), `cli.py` (the `flask scheduler` commands, `init_app`), `models.py`
(`RuleFiring`, `SchedulerLease`). Nothing is imported here, so that the models load alone.
"""
