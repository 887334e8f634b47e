"""The Jinja2 environment of the pages: autoescaped, strict about undefined names, Chinese formats."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from templates import district
from workflows import clock
from workflows.roles import ROLE_LABELS, Role

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# Bumped with the static files, so browsers never keep a stale script or stylesheet.
ASSET_VERSION = "10"


def local_time(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp as the district reads it (Beijing time); a date is a Beijing day already."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.beijing(value).strftime(fmt)
    return value.isoformat()


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def role_label(role: Role | str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return {"system": "系统", "participant": "参加教师（扫码签到）"}.get(str(role), str(role))


def static_url(path: str) -> str:
    return f"/static/{path}?v={ASSET_VERSION}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local_time=local_time, size_label=size_label, role_label=role_label)
    # The district's names (the bureau, its sections, the plan) as every page prints them.
    env.globals.update(static_url=static_url, district_names=district)
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render one template to a response (rendered now, while the database session is open)."""
    response: HTMLResponse = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    return response
