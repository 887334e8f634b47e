"""The audit-chain check (审计链核验) on a page, for the officer and the administrator: the whole history is
recomputed in order and the first row that does not hold is named — the same check as ``GET /api/audit/verify``."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows import audit
from workflows.clock import BEIJING
from workflows.roles import Role

router = web_router()

CHECKERS = frozenset({Role.OFFICER, Role.ADMIN})
nav.register(nav.NavItem("admin-audit", "审计核验", "/admin/audit", roles=CHECKERS, order=93))


@router.get("/admin/audit")
def audit_check(page: UserPage, run: str = "") -> Response:
    page.viewer.require_role(*CHECKERS)
    report = audit.verify_chain(page.db) if run else None
    return page.render("admin/audit.html", report=report, checked_at=datetime.now(BEIJING) if report else None)
