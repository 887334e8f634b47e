"""Request rate limits shared by every process: counters in the database, one row per key and window.

Embedded mode has no Redis and full mode runs several API processes, so the database is the one
place they all see. A key (``verify:<address>``) counts its hits per fixed window; the limit is
checked against a sliding estimate (this window's hits plus the previous window's, weighted by how
much of it still lies within the last ``window`` seconds), so a burst across a window boundary does
not get twice the limit. One upsert per hit (SQLite and PostgreSQL both have ``ON CONFLICT``).

A key's family is the text before its first colon (``verify``, ``sign-in``); every key of a family uses
the same window length, and a hit clears only its own family's old windows (window numbers of another
length are not comparable).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base, upsert, utcnow


class RateLimitHit(Base):
    """How many requests ``key`` made in window number ``window`` (seconds since the epoch // length)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_window", "window"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(default=0)


def hit(*, session: Session, key: str, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    """Count one request of ``key``; False when it is over ``limit`` per ``window_seconds`` (it still counts)."""
    moment = (now or utcnow()).timestamp()
    window = int(moment // window_seconds)
    statement = (
        upsert(session, RateLimitHit)
        .values(key=key[:200], window=window, hits=1)
        .on_conflict_do_update(index_elements=["key", "window"], set_={"hits": RateLimitHit.hits + 1})
        .returning(RateLimitHit.hits)
    )
    current = session.execute(statement).scalar_one()
    previous = session.scalar(
        select(RateLimitHit.hits).where(RateLimitHit.key == key[:200], RateLimitHit.window == window - 1)
    )
    # Windows of this family before the previous one no longer matter to anyone.
    family = key.split(":", 1)[0] + ":"
    session.execute(
        delete(RateLimitHit).where(
            RateLimitHit.window < window - 1, RateLimitHit.key.startswith(family, autoescape=True)
        )
    )
    elapsed = moment / window_seconds - window
    return current + (previous or 0) * (1 - elapsed) <= limit
