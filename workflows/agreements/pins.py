"""One throttle for every use of a signing PIN: signing, changing the key, and any later use.

A wrong PIN leaves an audit entry (event ``pin_refused``) committed on its own, so the request's
rollback does not lose it; the throttle counts those entries per signer, whatever record they were
made against, so guesses spread over signing and key changes add up to the same lockout.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.errors import TooManyAttempts

PIN_FAILURE_LIMIT = 5
PIN_FAILURE_WINDOW = timedelta(minutes=15)
PIN_REFUSED = "pin_refused"


def check_throttle(session: Session, user_id: uuid.UUID) -> None:
    """Refuse (429) any PIN check by a signer with too many recent wrong PINs, even a right one."""
    since = utcnow() - PIN_FAILURE_WINDOW
    failures = session.scalar(
        select(func.count()).where(
            audit.AuditEntry.event == PIN_REFUSED,
            audit.AuditEntry.actor_id == str(user_id),
            audit.AuditEntry.created_at >= since,
        )
    )
    if (failures or 0) >= PIN_FAILURE_LIMIT:
        minutes = int(PIN_FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(f"签名密码错误次数过多，请 {minutes} 分钟后再试", code="too_many_pin_failures")


def record_wrong_pin(
    session: Session,
    *,
    entity_type: str,
    entity_id: uuid.UUID | str,
    actor: audit.Actor,
    state: str | None = None,
    message: str = "签名密码错误",
    **data: Any,
) -> None:
    """Audit a wrong PIN and commit it alone (the caller has written nothing else yet)."""
    audit.append(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        event=PIN_REFUSED,
        actor=actor,
        from_state=state,
        to_state=state,
        comment=message,
        data={"reason": "wrong_pin", **data},
    )
    session.commit()
