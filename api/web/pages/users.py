"""账号管理 (administrator): search and filter the accounts, create one for a kindergarten or a bureau
post, deactivate and reactivate, reset a password, revoke a signing key.

A password the administrator sets or has generated is shown once and must be changed by its user at
the next sign-in. Everyone but the administrator gets 404 here.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form
from starlette.responses import Response

from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, text
from api.web.routing import web_router
from workflows.accounts import management
from workflows.accounts.models import User
from workflows.agreements import keys
from workflows.errors import Conflict, ValidationFailed
from workflows.registry import service as registry
from workflows.registry.models import AllianceRole, Kindergarten
from workflows.roles import KINDERGARTEN_ROLES, ROLE_LABELS, Role

router = web_router()

ADMINS = frozenset({Role.ADMIN})
nav.register(nav.NavItem("admin-users", "账号管理", "/admin/users", roles=ADMINS, order=90))

NEW_FIELDS = ("username", "display_name", "kindergarten_id", "role", "section", "phone", "password")
BUREAU_POST_LABELS = {
    Role.OFFICER: "成幼科（审核、签署、考核）",
    Role.RESEARCHER: "教研室（教研员）",
    Role.ADMIN: "系统管理员",
}
ACTIVE_CHOICES = {"1": "启用中", "0": "已停用"}


@dataclass(frozen=True)
class KindergartenOption:
    id: str
    name: str
    suggested: Role


@dataclass(frozen=True)
class KindergartenGroup:
    label: str
    options: list[KindergartenOption]


def kindergarten_groups(page: SignedInPage) -> list[KindergartenGroup]:
    """Every kindergarten for a select, grouped by its alliance (lead, pillar, then members)."""
    views = registry.list_kindergartens(session=page.db, viewer=page.viewer)
    order = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2}
    groups: dict[str, list[tuple[Any, KindergartenOption]]] = {}
    for view in views:
        k: Kindergarten = view.kindergarten
        membership = view.membership
        label = membership.alliance.name if membership else "未加入联盟"
        rank = (order[membership.role] if membership else 3, k.code)
        option = KindergartenOption(str(k.id), k.name, management.suggested_role(k))
        groups.setdefault(label, []).append((rank, option))
    named = sorted(g for g in groups if g != "未加入联盟")
    labels = named + (["未加入联盟"] if "未加入联盟" in groups else [])
    return [KindergartenGroup(g, [o for _, o in sorted(groups[g], key=lambda p: p[0])]) for g in labels]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _role(value: str) -> Role | None:
    return next((r for r in Role if r.value == value), None)


@router.get("/admin/users")
def users(
    page: UserPage,
    q: str = "",
    role: str = "",
    active: str = "",
    kindergarten: str = "",
    section: str = "",
    p: str = "1",
) -> Response:
    """The accounts, a page at a time, with search and filters kept in the address."""
    page.viewer.require_role(Role.ADMIN)
    q = q.strip()[:100]
    criteria = management.UserFilter(
        query=q,
        role=_role(role),
        active={"1": True, "0": False}.get(active),
        kindergarten_id=_uuid(kindergarten),
        section=section if section in management.SECTION_BY_CODE else None,
    )
    number = int(p) if p.isdigit() and 0 < int(p) < 100_000 else 1
    size = management.PAGE_SIZE
    found = management.search_users(
        session=page.db, viewer=page.viewer, criteria=criteria, offset=(number - 1) * size, limit=size
    )
    pages = max(1, math.ceil(found.total / size))
    kept = {"q": q, "role": role, "active": active, "kindergarten": kindergarten, "section": section}
    kept = {k: v for k, v in kept.items() if v}

    def link(n: int) -> str:
        return "/admin/users?" + urlencode(kept | {"p": n})

    return page.render(
        "admin/users.html",
        found=found,
        filters=kept,
        number=number,
        pages=pages,
        previous_url=link(number - 1) if number > 1 else "",
        next_url=link(number + 1) if number < pages else "",
        role_labels=ROLE_LABELS,
        active_choices=ACTIVE_CHOICES,
        groups=kindergarten_groups(page),
        sections=management.BUREAU_SECTIONS,
    )


def _new_page(
    page: SignedInPage, kind: str, *, errors: FieldErrors | None = None, entered: dict[str, str] | None = None
) -> Response:
    return page.render(
        "admin/user_new.html",
        kind=kind,
        groups=kindergarten_groups(page) if kind == "kindergarten" else [],
        kindergarten_roles=[r for r in Role if r in KINDERGARTEN_ROLES],
        bureau_posts=BUREAU_POST_LABELS,
        sections=management.BUREAU_SECTIONS,
        role_labels=ROLE_LABELS,
        errors=errors or {},
        entered=entered or {},
    )


@router.get("/admin/users/new")
def new_user(page: UserPage, kind: str = "kindergarten") -> Response:
    page.viewer.require_role(Role.ADMIN)
    return _new_page(page, "bureau" if kind == "bureau" else "kindergarten")


@router.post("/admin/users/new")
def create_user(page: UserPage, form: FormDep) -> Response:
    """Create the account and show it, with its temporary password (shown this once)."""
    page.viewer.require_role(Role.ADMIN)
    kind = "bureau" if text(form, "kind") == "bureau" else "kindergarten"
    entered = {name: text(form, name) for name in NEW_FIELDS}
    errors: FieldErrors = {}
    role = _role(entered["role"])
    if entered["role"] and role is None:
        errors["role"] = "请选择角色"
    if kind == "bureau" and role in KINDERGARTEN_ROLES:
        errors["role"] = "请选择岗位"
    if not errors:
        try:
            created = management.create_account(
                session=page.db,
                settings=page.settings,
                viewer=page.viewer,
                username=entered["username"],
                display_name=entered["display_name"],
                kindergarten_id=_uuid(entered["kindergarten_id"]) if kind == "kindergarten" else None,
                role=role,
                section=(entered["section"] or None) if kind == "bureau" else None,
                password=entered["password"] or None,
                phone=entered["phone"],
                for_kindergarten=kind == "kindergarten",
            )
        except ValidationFailed as exc:
            page.db.rollback()
            errors = domain_errors(exc)
        except Conflict as exc:
            page.db.rollback()
            errors = {"username": exc.message}
        else:
            return _detail_page(
                page, created.user, created=True, secret=created.generated_password or entered["password"]
            )
    return _new_page(page, kind, errors=errors, entered=entered)


def _detail_page(page: SignedInPage, user: User, **context: Any) -> Response:
    key = keys.active_key(page.db, user.id)
    return page.render(
        "admin/user_detail.html",
        user=user,
        key=key,
        revoked=keys.last_revoked_key(page.db, user.id) if key is None else None,
        may_sign=user.role in keys.SIGNING_ROLES,
        **({"created": False, "secret": None, "reset_secret": None, "reset_error": ""} | context),
    )


@router.get("/admin/users/{user_id}")
def user_detail(user_id: uuid.UUID, page: UserPage) -> Response:
    return _detail_page(page, management.get_user(session=page.db, viewer=page.viewer, user_id=user_id))


@router.post("/admin/users/{user_id}/active")
def set_active(user_id: uuid.UUID, page: UserPage, active: Annotated[str, Form()]) -> Response:
    user = management.set_active(session=page.db, viewer=page.viewer, user_id=user_id, active=active == "true")
    return page.redirect(f"/admin/users/{user.id}", f"已{'启用' if user.is_active else '停用'}账号 {user.username}")


@router.post("/admin/users/{user_id}/password")
def reset_password(user_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    """A temporary password (typed, or generated when left empty), shown once; htmx swaps in the result."""
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    user = management.get_user(session=page.db, viewer=page.viewer, user_id=user_id)
    secret, error = None, ""
    try:
        reset = management.reset_password(
            session=page.db, settings=page.settings, viewer=page.viewer, user_id=user_id, password=password or None
        )
        secret = reset.generated_password or password
    except ValidationFailed as exc:
        page.db.rollback()
        error = exc.message
    if page.htmx:
        return page.fragment("admin/_reset_result.html", user=user, reset_secret=secret, reset_error=error, oob=True)
    return _detail_page(page, user, reset_secret=secret, reset_error=error)
