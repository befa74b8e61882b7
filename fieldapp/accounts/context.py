from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapp.accounts.models import User
from fieldapp.core.clock import Clock
from fieldapp.core.sla import SlaPolicy


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, from a device (phone, integration) or the web."""

    user: User
    device_id: str | None = None
    device_at: datetime | None = None  # the device's raw clock for this change, audit only
    # When the change happened: the device's clock corrected by its offset (sync/engine.py),
    # never after receipt. None: it happens now (the office, the API).
    at: datetime | None = None

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class Ctx:
    session: Session
    clock: Clock
    policy: SlaPolicy = field(default_factory=SlaPolicy)

    def now(self) -> datetime:
        return self.clock.now()
