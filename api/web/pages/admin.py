"""Administration: the accounts (list, create, enable/disable) and the document templates' check report.

Only the administrator sees these pages; everyone else gets 404, like any other refusal to see.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, text
from api.web.routing import web_router
from templates.check import check_templates
from workflows.accounts import service as accounts
from workflows.accounts.models import KINDERGARTEN_ROLES, ROLE_LABELS, Role
from workflows.errors import Conflict, ValidationFailed
from workflows.registry import service as registry

router = web_router()

ADMINS = frozenset({Role.ADMIN})
nav.register(nav.NavItem("admin-users", "账号管理", "/admin/users", roles=ADMINS, order=90))
nav.register(nav.NavItem("admin-templates", "文书模板", "/admin/templates", roles=ADMINS, order=91))

USER_FIELDS = ("username", "display_name", "role", "kindergarten_id", "password")


def _users_page(
    page: SignedInPage,
    *,
    errors: FieldErrors | None = None,
    entered: dict[str, str] | None = None,
    error: str = "",
    row_errors: dict[str, str] | None = None,
) -> Response:
    return page.render(
        "admin/users.html",
        users=accounts.list_users(session=page.db, viewer=page.viewer),
        kindergartens=[v.kindergarten for v in registry.list_kindergartens(session=page.db, viewer=page.viewer)],
        role_labels=ROLE_LABELS,
        kindergarten_roles=KINDERGARTEN_ROLES,
        errors=errors or {},
        entered=entered or {},
        error=error,
        row_errors=row_errors or {},
    )


@router.get("/admin/users")
def users(page: UserPage) -> Response:
    page.viewer.require_role(Role.ADMIN)
    return _users_page(page)


@router.post("/admin/users")
def create_user(page: UserPage, form: FormDep) -> Response:
    page.viewer.require_role(Role.ADMIN)
    entered = {name: text(form, name) for name in USER_FIELDS}
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    errors: FieldErrors = {}
    if not entered["display_name"]:
        errors["display_name"] = "请输入姓名"
    elif len(entered["display_name"]) > 100:
        errors["display_name"] = "姓名不超过 100 字"
    role = next((r for r in Role if r.value == entered["role"]), None)
    if role is None:
        errors["role"] = "请选择角色"
    kindergarten_id: uuid.UUID | None = None
    if entered["kindergarten_id"]:
        try:
            kindergarten_id = uuid.UUID(entered["kindergarten_id"])
        except ValueError:
            errors["kindergarten_id"] = "幼儿园不存在"
    if not errors and role is not None:
        try:
            user = accounts.create_user(
                session=page.db,
                settings=page.settings,
                username=entered["username"],
                password=password,
                role=role,
                display_name=entered["display_name"],
                kindergarten_id=kindergarten_id,
                actor=page.viewer.actor,
            )
        except ValidationFailed as exc:
            page.db.rollback()
            errors = domain_errors(exc)
        except Conflict as exc:
            page.db.rollback()
            errors = {"username": exc.message}
        else:
            return page.redirect("/admin/users", f"已创建账号 {user.username}")
    entered.pop("password")
    return _users_page(page, errors=errors, entered=entered, error="请按提示修改后重新提交")


@router.post("/admin/users/{user_id}/active")
def set_active(user_id: uuid.UUID, page: UserPage, active: Annotated[str, Form()]) -> Response:
    page.viewer.require_role(Role.ADMIN)
    try:
        user = accounts.set_active(session=page.db, viewer=page.viewer, user_id=user_id, active=active == "true")
    except ValidationFailed as exc:
        page.db.rollback()
        return _users_page(page, error=exc.message)
    return page.redirect("/admin/users", f"已{'启用' if user.is_active else '停用'}账号 {user.username}")


@router.post("/admin/users/{user_id}/password")
def reset_password(user_id: uuid.UUID, page: UserPage, password: Annotated[str, Form(max_length=256)] = "") -> Response:
    page.viewer.require_role(Role.ADMIN)
    try:
        user = accounts.reset_password(
            session=page.db, settings=page.settings, viewer=page.viewer, user_id=user_id, password=password
        )
    except ValidationFailed as exc:
        page.db.rollback()
        return _users_page(page, error=exc.message, row_errors={str(user_id): exc.message})
    return page.redirect("/admin/users", f"已重置账号 {user.username} 的密码")


@router.get("/admin/templates")
def templates_report(page: UserPage) -> Response:
    page.viewer.require_role(Role.ADMIN)
    reports = [dataclasses.asdict(r) | {"ok": r.ok} for r in check_templates()]
    return page.render("admin/templates.html", reports=reports)
