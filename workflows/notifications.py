"""In-app notifications: one row per recipient, read or unread."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.accounts.models import User
from workflows.errors import NotFound
from workflows.roles import Role


class Notification(UUIDPrimaryKey, Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


# Every kind of notification and the area it is read under. ``notify_users`` refuses any other kind,
# so a new one cannot slip past tests/web/test_notification_links.py, which makes each kind through
# the real code paths and opens its link as its recipient: no notification leads to a dead end.
KINDS: dict[str, str] = {
    "application.submitted": "入盟申请",
    "application.returned": "入盟申请",
    "application.rejected": "入盟申请",
    "application.approved": "入盟申请",
    "agreement.sign_requested": "联盟协议",
    "agreement.returned": "联盟协议",
    "agreement.effective": "联盟协议",
    "agreement.voided": "联盟协议",
    "agreement.terminated": "联盟协议",
    "agreement.expired": "联盟协议",
    "activity.announced": "教研活动",
    "activity.cancelled": "教研活动",
    "activity.commented": "教研活动",
    "activity.behind_minimum": "教研活动",
    "deadline.reminder": "截止提醒",
    "evaluation.self_assessed": "年度考核",
    "evaluation.scored": "年度考核",
    "evaluation.published": "年度考核",
    "evaluation.review_flags": "动态管理",
    "mentor.nominated": "导师推荐",
    "mentor.appointed": "导师推荐",
    "mentor.declined": "导师推荐",
    "mentor.reviewed": "导师推荐",
    "certificate.issued": "证书",
    "certificate.countersigned": "证书",
    "library.recommended": "资源库",
    "library.recommendation_decided": "资源库",
    "news.drafted": "活动报道",
    "news.returned": "活动报道",
    "withdrawal.requested": "退出联盟",
    "withdrawal.cancelled": "退出联盟",
    "withdrawal.approved": "退出联盟",
    "withdrawal.refused": "退出联盟",
    "semester_work.shared": "经验交流",
}


def notify_users(
    session: Session, users: Iterable[User], *, kind: str, title: str, body: str = "", link: str = ""
) -> list[Notification]:
    """Give each user one unread notification (of one of the ``KINDS``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}: add it to workflows.notifications.KINDS")
    rows = [Notification(user_id=u.id, kind=kind, title=title, body=body, link=link) for u in users]
    session.add_all(rows)
    return rows


def users_with_role(session: Session, role: Role) -> list[User]:
    return list(session.scalars(select(User).where(User.role == role, User.is_active)))


def users_of_kindergarten(session: Session, kindergarten_id: uuid.UUID) -> list[User]:
    return list(session.scalars(select(User).where(User.kindergarten_id == kindergarten_id, User.is_active)))


def list_for_user(
    session: Session, user_id: uuid.UUID, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    """The user's notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc()).limit(limit)))


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's own notifications as read (another user's is not found)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound("通知不存在")
    if row.read_at is None:
        row.read_at = utcnow()
    return row
