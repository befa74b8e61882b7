"""The scheduler's registry of tasks: `@task(name)` registers a function `(app, ctx) ->
summary`; `run_once` (runner.py) runs them in the order they were registered (tasks.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    run: Callable  # (app, ctx) -> summary (anything printable)
    doc: str = ""


TASKS: dict[str, Task] = {}


def task(name: str):
    def register(func):
        TASKS[name] = Task(name, func, (func.__doc__ or "").strip().splitlines()[0]
                           if func.__doc__ else "")
        return func
    return register
