from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapp.jobs.models import Counter

CHANGE = "change"


def bump(session: Session, name: str = CHANGE) -> int:
    """Next value of a named counter, inside the caller's transaction.

    The UPDATE takes the row lock until commit, so changes are committed in counter order:
    a pull that reads value N sees every change numbered N or below.
    """
    stmt = (update(Counter).where(Counter.name == name)
            .values(value=Counter.value + 1).returning(Counter.value))
    value = session.execute(stmt).scalar()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:  # another transaction created it first
        return session.execute(stmt).scalar_one()


def current(session: Session, name: str = CHANGE) -> int:
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar() or 0
