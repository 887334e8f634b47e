"""签名密钥 (officer, administrator): who holds an active signing key, and revoking one.

A revoked key signs nothing more; its user sees on 我的账号 that they must set a signing PIN again.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage, safe_next
from api.web.routing import web_router
from workflows.accounts.models import User
from workflows.agreements import keys
from workflows.errors import NotFound
from workflows.roles import Role

router = web_router()

KEY_KEEPERS = frozenset({Role.OFFICER, Role.ADMIN})
nav.register(nav.NavItem("signing-keys", "签名密钥", "/signing-keys", roles=KEY_KEEPERS, order=92))


@router.get("/signing-keys")
def signing_keys(page: UserPage, q: str = "") -> Response:
    q = q.strip()[:100]
    holders = keys.list_active_keys(session=page.db, viewer=page.viewer, query=q)
    return page.render("signing_keys.html", holders=holders, q=q)


@router.post("/signing-keys/{user_id}/revoke")
def revoke(user_id: uuid.UUID, page: UserPage, next: Annotated[str, Form()] = "/signing-keys") -> Response:
    """Revoke the user's key (the refusal when there is none is a Chinese page, 409)."""
    keys.revoke_signing_key(session=page.db, settings=page.settings, viewer=page.viewer, user_id=user_id)
    user = page.db.get(User, user_id)
    if user is None:
        raise NotFound()
    return page.redirect(
        safe_next(next), f"已撤销 {user.display_name}（{user.username}）的签名密钥，其须重新设置签名密码"
    )
