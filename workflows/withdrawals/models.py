"""A member's request to leave its alliance, and what the officer decided."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.registry.models import Alliance, Kindergarten, Membership


class Withdrawal(UUIDPrimaryKey, Base):
    __tablename__ = "withdrawals"
    __table_args__ = (
        Index("ix_withdrawals_state", "state"),
        # One open request per membership: a second one would only repeat the first.
        Index(
            "uq_withdrawals_open_membership",
            "membership_id",
            unique=True,
            sqlite_where=text("state = 'requested'"),
            postgresql_where=text("state = 'requested'"),
        ),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"), index=True)
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(16), default="requested")
    version: Mapped[int] = mapped_column(default=1)
    reason: Mapped[str] = mapped_column(Text)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None]
    # The day the membership ended (set on approval).
    ended_on: Mapped[date | None]

    kindergarten: Mapped[Kindergarten] = relationship()
    alliance: Mapped[Alliance] = relationship()
    membership: Mapped[Membership] = relationship()

    __mapper_args__ = {"version_id_col": version}
