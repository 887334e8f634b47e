"""Where a browser goes back to: the page a form came from, never an address of another site.

After a refused action the browser returns to the page the form was on, so the address bar never
keeps an action URL; after a session expired while a form was open, the login page brings it back
there. That page is, in order: the form's ``return_to`` field (templates may set it), the page the
htmx request came from or the Referer when they are of this site, else the nearest page above the
action's own path (``/applications/<id>/events/approve`` → ``/applications/<id>``). Every candidate
must be the path of a page this app serves to GET, so an action URL is never chosen.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast
from urllib.parse import urlsplit

from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp

from api.web.deps import is_htmx, safe_path

RETURN_FIELD = "return_to"


def page_routes(app: ASGIApp) -> list[APIRoute]:
    """The GET routes of the pages (``api.web.install`` lists them)."""
    state = getattr(app, "state", None)
    return list(getattr(state, "page_routes", []))


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _params_fit(route: APIRoute, values: dict[str, Any]) -> bool:
    # /evaluations/open has the shape of /evaluations/{evaluation_id} but is no page: "open" is no UUID.
    for field in route.dependant.path_params:
        try:
            _adapter(cast(Any, field.field_info.annotation)).validate_python(values.get(field.name))
        except ValidationError:
            return False
    return True


def is_page(app: ASGIApp, path: str) -> bool:
    """Whether ``path`` (query and fragment ignored) is a page: a GET page route whose path parameters
    have the right types."""
    scope = {"type": "http", "path": urlsplit(path).path, "method": "GET", "root_path": ""}
    for route in page_routes(app):
        match, child = route.matches(scope)
        if match == Match.FULL and _params_fit(route, child.get("path_params", {})):
            return True
    return False


def nearest_page(app: ASGIApp, path: str) -> str:
    """The page at ``path`` or, dropping its last segments one by one, the nearest page above it."""
    segments = urlsplit(path).path.rstrip("/").split("/")
    while len(segments) > 1:
        candidate = "/".join(segments)
        if is_page(app, candidate):
            return candidate
        segments.pop()
    return "/"


def same_site_path(request: Request, url: str | None) -> str | None:
    """The path and query of ``url`` when it is an address of this site (as the request reached it)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != request.url.netloc:
        return None
    return safe_path((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


async def _form_field(request: Request) -> str | None:
    # The form was parsed already (the CSRF check reads it); a body that is not a form has no field.
    try:
        value = (await request.form()).get(RETURN_FIELD)
    except Exception:  # noqa: BLE001 - whatever the body is, it has no form field
        return None
    return value if isinstance(value, str) else None


def current_page(request: Request) -> str | None:
    """The page the browser shows, for a request made from it by htmx or by a form."""
    if is_htmx(request):
        found = same_site_path(request, request.headers.get("HX-Current-URL"))
        if found and is_page(request.app, found):
            return found
    found = same_site_path(request, request.headers.get("referer"))
    return found if found and is_page(request.app, found) else None


async def return_path(request: Request) -> str:
    """The page to send the browser back to after its request to ``request.url`` (see the module)."""
    if not is_htmx(request):
        chosen = safe_path(await _form_field(request))
        if chosen and is_page(request.app, chosen):
            return chosen
    return current_page(request) or nearest_page(request.app, request.url.path)
