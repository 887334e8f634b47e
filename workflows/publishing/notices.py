"""Who hears of a news report: the lead when a draft waits for approval, the author when it comes back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.accounts.models import User
from workflows.notifications import notify_users, users_of_kindergarten
from workflows.publishing.models import NewsReport
from workflows.roles import Role


def link(report: NewsReport) -> str:
    return f"/reports/{report.id}"


def drafted(session: Session, report: NewsReport) -> None:
    """Tell the alliance's lead that a draft waits for its approval (unless the lead wrote it)."""
    lead = report.activity.alliance.lead
    if lead is None:
        return
    users = [u for u in users_of_kindergarten(session, lead.id) if u.role == Role.LEAD and u.id != report.created_by]
    notify_users(
        session,
        users,
        kind="news.drafted",
        title=f"活动报道待审定：{report.title}",
        body=f"{report.author_name}撰写了「{report.activity.topic}」的活动报道，请审定后发布。",
        link=link(report),
    )


def returned(session: Session, report: NewsReport, comment: str) -> None:
    """Tell the author that the draft came back with the approver's remarks."""
    author = session.scalar(select(User).where(User.id == report.created_by, User.is_active))
    if author is None:
        return
    notify_users(
        session,
        [author],
        kind="news.returned",
        title=f"活动报道退回修改：{report.title}",
        body=f"修改意见：{comment}",
        link=link(report),
    )
