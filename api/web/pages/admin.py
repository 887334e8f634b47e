"""Administration: the document templates' check report (the accounts are in ``users``).

Only the administrator sees these pages; everyone else gets 404, like any other refusal to see.
"""

from __future__ import annotations

import dataclasses

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from templates.check import check_templates
from workflows.roles import Role

router = web_router()

ADMINS = frozenset({Role.ADMIN})
nav.register(nav.NavItem("admin-templates", "文书模板", "/admin/templates", roles=ADMINS, order=91))


@router.get("/admin/templates")
def templates_report(page: UserPage) -> Response:
    page.viewer.require_role(Role.ADMIN)
    reports = [dataclasses.asdict(r) | {"ok": r.ok} for r in check_templates()]
    return page.render("admin/templates.html", reports=reports)
