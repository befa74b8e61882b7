from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapp.core.clock import Clock
from fieldapp.core.sla import SlaPolicy
from fieldapp.models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, from a device (phone, integration) or the web."""

    user: User
    device_id: str | None = None
    device_at: datetime | None = None  # the device's clock for this change, audit only

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
