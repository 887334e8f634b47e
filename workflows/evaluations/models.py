"""The annual evaluation (年度考核评价, 附件4): the scheme of a year, each alliance's evaluation and
its items, and the review flags of dynamic management."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.registry.models import Alliance, Kindergarten


class EvaluationScheme(Base):
    """The items of one year's evaluation, as the officer set them before it opened."""

    __tablename__ = "evaluation_schemes"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Evaluation(UUIDPrimaryKey, Base):
    """One alliance's evaluation of one year."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("alliance_id", "year"), Index("ix_evaluations_year_state", "year", "state"))

    number: Mapped[str] = mapped_column(String(24), unique=True)
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    year: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    # Kept current after every change; final once published.
    total: Mapped[float] = mapped_column(default=0.0)
    grade: Mapped[str] = mapped_column(String(8), default="")
    vetoed: Mapped[bool] = mapped_column(default=False)
    self_remarks: Mapped[str] = mapped_column(Text, default="")
    last_comment: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    self_assessed_at: Mapped[datetime | None]
    scored_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_by: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    alliance: Mapped[Alliance] = relationship()
    items: Mapped[list[EvaluationItem]] = relationship(
        back_populates="evaluation", order_by="EvaluationItem.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def scoring_complete(self) -> bool:
        """Every item scored by a person has its final score (the machine's guard into ``scored``)."""
        return all(item.final is not None for item in self.items)

    def item(self, key: str) -> EvaluationItem | None:
        return next((i for i in self.items if i.key == key), None)


class EvaluationItem(UUIDPrimaryKey, Base):
    """One item of an evaluation: the scheme's definition as it was at opening, and its scores."""

    __tablename__ = "evaluation_items"
    __table_args__ = (UniqueConstraint("evaluation_id", "key"),)

    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    section: Mapped[str] = mapped_column(String(40), default="")
    label: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float]
    assessor: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    veto: Mapped[bool] = mapped_column(default=False)
    bonus: Mapped[bool] = mapped_column(default=False)
    # Automatic items: the value the records give, and the evidence it was computed from.
    computed: Mapped[float | None]
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    self_score: Mapped[float | None]
    self_remark: Mapped[str] = mapped_column(Text, default="")
    # A person's score: for a manual item the score, for an automatic one an override of ``computed``.
    final_score: Mapped[float | None]
    final_comment: Mapped[str] = mapped_column(Text, default="")
    veto_triggered: Mapped[bool] = mapped_column(default=False)
    scored_by: Mapped[str] = mapped_column(String(100), default="")
    scored_role: Mapped[str] = mapped_column(String(16), default="")
    scored_at: Mapped[datetime | None]

    evaluation: Mapped[Evaluation] = relationship(back_populates="items")

    @property
    def final(self) -> float | None:
        """The score that counts: a person's score if given, else the computed value."""
        return self.final_score if self.final_score is not None else self.computed


class ReviewFlag(UUIDPrimaryKey, Base):
    """动态管理: an alliance or a member kindergarten put up for the officer's review after publication."""

    __tablename__ = "review_flags"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluations.id", ondelete="RESTRICT"), index=True)
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    kindergarten_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    year: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    alliance: Mapped[Alliance] = relationship()
    kindergarten: Mapped[Kindergarten | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
