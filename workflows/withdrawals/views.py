"""Turning withdrawal requests into what the API and the pages show."""

from __future__ import annotations

from workflows.access import Viewer
from workflows.presenters import Presented
from workflows.withdrawals.machine import WITHDRAWAL_WORKFLOW
from workflows.withdrawals.models import Withdrawal
from workflows.withdrawals.schemas import WithdrawalOut


def withdrawal_out(viewer: Viewer, withdrawal: Withdrawal) -> WithdrawalOut:
    """The request as this viewer sees it, with the events this viewer could fire now."""
    allowed = WITHDRAWAL_WORKFLOW.allowed_events(withdrawal, viewer.role)
    if viewer.kindergarten_id != withdrawal.kindergarten_id:
        allowed = [e for e in allowed if e != "cancel"]
    return WithdrawalOut.model_validate(
        Presented(
            withdrawal,
            state_label=WITHDRAWAL_WORKFLOW.label(withdrawal.state),
            kindergarten_name=withdrawal.kindergarten.name,
            alliance_name=withdrawal.alliance.name,
            allowed_events=allowed,
        )
    )
