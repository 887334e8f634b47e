"""Gap-free per-name counters (application numbers, certificate serials), safe under concurrency.

The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) that is held to the end of the
caller's transaction, so two transactions never draw the same number and a rolled-back one gives
its number back.
"""

from __future__ import annotations

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_value(session: Session, name: str) -> int:
    """Increment and return the counter ``name`` (starting at 1)."""
    for _ in range(3):
        # RETURNING (SQLite 3.35+, PostgreSQL): the new value in the same statement.
        value = session.scalar(
            update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
        )
        if value is not None:
            return int(value)
        try:
            with session.begin_nested():
                session.add(Counter(name=name, value=1))
            return 1
        except IntegrityError:
            continue  # another transaction created it first; increment theirs
    raise RuntimeError(f"counter {name} could not be incremented")
