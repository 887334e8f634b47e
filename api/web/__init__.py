"""The web application in Chinese: server-rendered pages (Jinja2 + htmx) on the same services as the API.

Each area's pages live in ``api/web/pages/<area>.py`` with a ``router``; importing the module also
registers its menu entries (``nav``) and its 待办 provider (``todo``). A new area adds its module to
``PAGE_MODULES`` below; nothing else changes.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web.pages import (
    account,
    activities,
    admin,
    agreement_members,
    agreement_signing,
    agreement_terms,
    agreements,
    application_form,
    applications,
    auth,
    dashboards,
    documents,
    evaluations,
    home,
    notifications,
    registry,
    research_groups,
    roster_import,
    semester_work,
    signing_keys,
    teachers,
    users,
    verify,
    withdrawals,
)
from api.web.rendering import STATIC_DIR

# Order matters where paths overlap: /applications/new before /applications/{id}.
PAGE_MODULES: list[ModuleType] = [
    auth,
    home,
    application_form,
    applications,
    agreement_members,  # /agreements/alliances before /agreements/{id}
    agreement_signing,
    agreement_terms,
    agreements,
    withdrawals,
    activities,
    semester_work,
    dashboards,
    evaluations,
    registry,
    research_groups,
    # /teachers/import and the workbooks before /teachers/{teacher_id}.
    roster_import,
    teachers,
    notifications,
    documents,
    verify,
    account,
    admin,
    users,
    signing_keys,
]


def install(app: FastAPI) -> None:
    """Mount the pages at / and the vendored static files at /static."""
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
