"""Rate limits of the public verifier, per client address, shared by every API process.

The counters live in the database (``workflows.rate_limits``): embedded mode has no Redis, and in
full mode every API process sees the same rows. The address is the client's as
``api.client_address`` resolves it, so a forged X-Forwarded-For does not buy a fresh allowance.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.client_address import client_address
from api.deps import RuntimeDep, db_slots
from storage.runtime import Runtime
from workflows import rate_limits
from workflows.errors import TooManyAttempts

VERIFY_LIMIT = 30
VERIFY_WINDOW_SECONDS = 60
REFUSED = "核验请求过于频繁，请一分钟后再试"


def count_verification(session: Session, address: str) -> bool:
    """Count one verification by ``address``; False when it is past the limit."""
    return rate_limits.hit(
        session=session, key=f"verify:{address}", limit=VERIFY_LIMIT, window_seconds=VERIFY_WINDOW_SECONDS
    )


def _count_in_own_transaction(runtime: Runtime, address: str) -> bool:
    with runtime.db.session() as session:
        return count_verification(session, address)


async def limit_verification(request: Request, runtime: RuntimeDep) -> None:
    """The API's dependency: counted and committed in a short transaction of its own before the upload is
    looked at, so refused and failed verifications count too; 429 past the limit."""
    async with db_slots(request, runtime, write=True):  # it writes, for a GET too
        allowed = await anyio.to_thread.run_sync(partial(_count_in_own_transaction, runtime, client_address(request)))
    if not allowed:
        raise TooManyAttempts(REFUSED, code="rate_limited")


VerificationLimited = Annotated[None, Depends(limit_verification)]
