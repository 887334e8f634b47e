"""The web application in Chinese: server-rendered pages (Jinja2 + htmx) on the same services as the API.

Each area's pages live in ``api/web/pages/<area>.py`` with a ``router``; importing the module also
registers its menu entries (``nav``) and its 待办 provider (``todo``). A new area adds its module to
``PAGE_MODULES`` below; nothing else changes.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.errors import http_error_json
from api.web.pages import (
    account,
    activities,
    activity_form,
    activity_guidance,
    activity_records,
    admin,
    agreement_members,
    agreement_signing,
    agreement_terms,
    agreements,
    application_form,
    applications,
    audit_check,
    auth,
    certificates,
    channels,
    dashboards,
    documents,
    evaluation_files,
    evaluation_scheme,
    evaluations,
    exchange,
    home,
    ledger,
    library,
    library_documents,
    library_recommendations,
    mentor_teams,
    mentors,
    news,
    news_photos,
    notifications,
    registry,
    research_groups,
    review_flags,
    roster_import,
    semester_work,
    semesters,
    sign_in,
    signing_keys,
    teachers,
    users,
    verify,
    withdrawals,
)
from api.web.rendering import STATIC_DIR
from api.web.routing import http_error_page

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
    activity_form,  # /activities/new before /activities/{id}
    withdrawals,
    activities,
    activity_records,
    activity_guidance,
    news_photos,
    semester_work,
    exchange,
    semesters,
    ledger,
    dashboards,
    evaluation_files,  # /evaluations/ranking/… and the scheme before /evaluations/{id}
    evaluation_scheme,
    evaluations,
    review_flags,
    library_recommendations,  # /library/recommendations before /library/{item_id}
    library_documents,
    library,
    news,
    mentors,  # /mentors/nominations before /mentors/{mentor_id}
    mentor_teams,
    certificates,
    registry,
    research_groups,
    # /teachers/import and the workbooks before /teachers/{teacher_id}.
    roster_import,
    teachers,
    notifications,
    documents,
    verify,
    sign_in,
    account,
    admin,
    audit_check,
    channels,
    users,
    signing_keys,
]


def install(app: FastAPI) -> None:
    """Mount the pages at / and the vendored static files at /static; an address no route answers
    gets the Chinese error page, except under /api, which keeps answering JSON."""
    for module in PAGE_MODULES:
        app.include_router(module.router)
    # Where a browser may be sent back to (``returns.is_page``): the pages, in the order they match.
    app.state.page_routes = [
        r for m in PAGE_MODULES for r in m.router.routes if isinstance(r, APIRoute) and "GET" in (r.methods or ())
    ]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return await http_error_json(request, exc)
    return await http_error_page(request, exc)
