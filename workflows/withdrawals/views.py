"""Turning withdrawal requests into what the API and the pages show."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.withdrawals.machine import WITHDRAWAL_WORKFLOW
from workflows.withdrawals.models import Withdrawal
from workflows.withdrawals.schemas import WithdrawalOut


def withdrawal_out(viewer: Viewer, withdrawal: Withdrawal) -> WithdrawalOut:
    """The request as this viewer sees it, with the events this viewer could fire now."""
    allowed = WITHDRAWAL_WORKFLOW.allowed_events(withdrawal, viewer.role)
    if viewer.kindergarten_id != withdrawal.kindergarten_id:
        allowed = [e for e in allowed if e != "cancel"]
    return WithdrawalOut(
        id=withdrawal.id,
        number=withdrawal.number,
        state=withdrawal.state,
        state_label=WITHDRAWAL_WORKFLOW.label(withdrawal.state),
        version=withdrawal.version,
        kindergarten_id=withdrawal.kindergarten_id,
        kindergarten_name=withdrawal.kindergarten.name,
        alliance_id=withdrawal.alliance_id,
        alliance_name=withdrawal.alliance.name,
        reason=withdrawal.reason,
        decision_comment=withdrawal.decision_comment,
        created_at=withdrawal.created_at,
        decided_at=withdrawal.decided_at,
        ended_on=withdrawal.ended_on,
        allowed_events=allowed,
    )
