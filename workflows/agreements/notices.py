"""Telling the parties what happened to their agreement (in-app notifications)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows.agreements.documents import title_of
from workflows.agreements.models import Agreement
from workflows.agreements.parties import signers_of
from workflows.notifications import notify_users


def notify_parties(
    session: Session, agreement: Agreement, parties: list[str], kind: str, title: str, body: str = ""
) -> None:
    """One notification to every account that signs for one of ``parties``."""
    users = {u.id: u for party in parties for u in signers_of(session, agreement, party)}
    notify_users(session, users.values(), kind=kind, title=title, body=body, link=f"/agreements/{agreement.id}")


def notify_awaiting(session: Session, agreement: Agreement) -> None:
    """Tell the signers of the current step that it is their turn."""
    if agreement.awaiting:
        notify_parties(
            session, agreement, agreement.awaiting, "agreement.sign_requested",
            f"请签署联盟协议书 {agreement.number}", title_of(agreement),
        )  # fmt: skip
