"""The dispatcher's desk at /dispatch/: the board, intake, jobs, complaints, breaches and
(admins) settings. Server-rendered pages; small ES modules in static/dispatch/ enhance them.

Every route here is for dispatchers and admins only (one guard for the whole blueprint,
blueprint.py); the settings page is for admins only. Pages call the services, commit once, and
show a refused change (DomainError) as a message, storing nothing.
"""
from __future__ import annotations

# The desk's routes, each module registering its own on `bp`; notifications and deliveries
# (issue 7), the take-back register (issue 8).
from . import (  # noqa: F401
    board,
    complaints,
    intake,
    lists,
    notifications,
    return_visits,
    settings,
    takebacks,
)
from .blueprint import bp  # noqa: F401
