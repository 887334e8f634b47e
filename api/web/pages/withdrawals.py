"""A member's withdrawal from its alliance: the member asks (申请退出联盟, with a reason), the officer
approves or refuses with a comment; approval ends the membership and the agreement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import SignedInPage, UserPage
from api.web.forms import domain_errors
from api.web.routing import web_router
from workflows import audit
from workflows.access import Viewer
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.errors import ValidationFailed
from workflows.roles import Role
from workflows.withdrawals import service
from workflows.withdrawals.machine import WITHDRAWAL_WORKFLOW
from workflows.withdrawals.models import Withdrawal
from workflows.withdrawals.views import withdrawal_out

router = web_router()

nav.register(nav.NavItem("withdrawals", "退出申请", "/withdrawals", roles=frozenset({Role.OFFICER}), order=23))

HISTORY_LABELS = {"create": "提交退出申请"} | {name: rule.label for name, rule in WITHDRAWAL_WORKFLOW.rules.items()}
CONFIRM = {
    "approve": "确定同意退出？该园的联盟成员资格将终止，其协议随之终止。",
    "refuse": "确定不同意退出？",
    "cancel": "确定撤回退出申请？",
}


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    waiting = service.list_visible(session=session, viewer=viewer, state="requested")
    return [
        todo.TodoItem("退出申请", f"审核退出申请：{w.kindergarten.name}", f"/withdrawals/{w.id}", w.number, urgent=True)
        for w in waiting
    ]


todo.register("withdrawals", _todo, roles=[Role.OFFICER], order=22)


@router.get("/withdrawals")
def withdrawal_list(page: UserPage, state: str = "") -> Response:
    rows = service.list_visible(session=page.db, viewer=page.viewer, state=state or None)
    membership = service.current_membership(page.db, page.viewer)
    return page.render(
        "withdrawals/list.html",
        rows=[withdrawal_out(page.viewer, w) for w in rows],
        state=state,
        states=list(WITHDRAWAL_WORKFLOW.state_labels.items()),
        may_request=membership is not None and service.pending_of(page.db, membership) is None,
    )


@router.get("/withdrawals/new")
def new_form(page: UserPage) -> Response:
    return _form(page)


@router.post("/withdrawals")
def create(page: UserPage, reason: Annotated[str, Form(max_length=4000)] = "") -> Response:
    try:
        withdrawal = service.request(session=page.db, viewer=page.viewer, reason=reason)
    except ValidationFailed as exc:  # any other refusal goes back to the form with its message (WebRoute)
        page.db.rollback()
        return _form(page, reason=reason, errors=domain_errors(exc))
    return page.redirect(f"/withdrawals/{withdrawal.id}", f"已提交退出申请 {withdrawal.number}，请等待成幼科审核")


def _form(page: SignedInPage, *, reason: str = "", errors: dict[str, str] | None = None, error: str = "") -> Response:
    membership = service.current_membership(page.db, page.viewer)
    waiting = service.pending_of(page.db, membership) if membership else None
    return page.render(
        "withdrawals/new.html",
        membership=membership,
        waiting=waiting,
        reason=reason,
        errors=errors or {},
        error=error,
        reason_max=service.REASON_MAX,
    )


@router.get("/withdrawals/{withdrawal_id}")
def detail(withdrawal_id: uuid.UUID, page: UserPage) -> Response:
    withdrawal = service.get_visible(session=page.db, viewer=page.viewer, withdrawal_id=withdrawal_id)
    return _detail(page, withdrawal)


@router.post("/withdrawals/{withdrawal_id}/events/{event}")
def fire(
    withdrawal_id: uuid.UUID,
    event: str,
    page: UserPage,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        withdrawal = service.fire_event(
            session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects,
            withdrawal_id=withdrawal_id, event=event, version=version, comment=comment,
        )  # fmt: skip
    except ValidationFailed as exc:  # any other refusal goes back to the request with its message (WebRoute)
        page.db.rollback()
        withdrawal = service.get_visible(session=page.db, viewer=page.viewer, withdrawal_id=withdrawal_id)
        return _detail(
            page, withdrawal, failed_event=event, errors=domain_errors(exc), error=exc.message, comment=comment
        )
    label = WITHDRAWAL_WORKFLOW.rules[event].label
    return page.redirect(
        f"/withdrawals/{withdrawal.id}", f"已{label}：申请现为「{WITHDRAWAL_WORKFLOW.label(withdrawal.state)}」"
    )


def _detail(
    page: SignedInPage,
    withdrawal: Withdrawal,
    *,
    failed_event: str = "",
    errors: dict[str, str] | None = None,
    error: str = "",
    comment: str = "",
    status_code: int = 200,
) -> Response:
    return page.render(
        "withdrawals/detail.html",
        status_code=status_code,
        w=withdrawal_out(page.viewer, withdrawal),
        agreements=service.member_agreements(page.db, withdrawal),
        history=audit.history(page.db, entity_type="withdrawal", entity_id=withdrawal.id),
        history_labels=HISTORY_LABELS,
        state_labels=WITHDRAWAL_WORKFLOW.state_labels,
        agreement_states=AGREEMENT_WORKFLOW.state_labels,
        rules=WITHDRAWAL_WORKFLOW.rules,
        confirm=CONFIRM,
        failed_event=failed_event,
        errors=errors or {},
        error=error,
        comment=comment,
    )
