"""Alliance agreements: the list, one agreement (parties, route, signatures, documents), its events.

Signing is an event like the others: a signer whose turn it is enters the PIN of their signing key.
Importing this module also connects the public verification page (``pages.verification``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import SignedInPage, UserPage
from api.web.forms import domain_errors
from api.web.pages import verification as _verification  # noqa: F401  (connects /verify)
from api.web.routing import web_router
from workflows import audit, jobs
from workflows.access import Viewer
from workflows.accounts.models import Role
from workflows.agreements import bulk, events, service
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement
from workflows.agreements.parties import PARTY_LABELS, party_of
from workflows.agreements.views import agreement_out
from workflows.documents.service import list_for_owner
from workflows.errors import DomainError, Forbidden, NotFound, TooManyAttempts, TransitionNotAllowed, ValidationFailed
from workflows.registry import service as registry

router = web_router()

SIGNING_ROLES = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR})
nav.register(
    nav.NavItem(
        "agreements",
        "协议签署",
        "/agreements",
        roles=SIGNING_ROLES | {Role.OFFICER, Role.RESEARCHER, Role.ADMIN},
        order=20,
        labels=((Role.RESEARCHER, "联盟协议"), (Role.ADMIN, "联盟协议")),
    )
)
nav.register(
    nav.NavItem("agreements-bulk", "批量发送协议", "/agreements/bulk", roles=frozenset({Role.OFFICER}), order=21)
)

HISTORY_LABELS = {
    "create": "生成协议",
    "edit": "修改协议",
    "freeze": "定稿",
    "pin_refused": "签名密码错误",
    "archive": "归档签署文件",
} | {name: rule.label for name, rule in AGREEMENT_WORKFLOW.rules.items()}
CONFIRM = {
    "void": "确定作废本协议？作废后不可恢复。",
    "terminate": "确定终止本协议？成员园将退出联盟。",
    "decline": "确定拒签并退回成幼科？本轮已有签名将作废。",
}
# HTTP status of a refused event as the page shows it (the message is the service's own).
STATUS = {Forbidden: 403, TransitionNotAllowed: 409, TooManyAttempts: 429, NotFound: 404}


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    area = "协议签署"
    items = []
    for a in service.list_visible(session=session, viewer=viewer):
        link = f"/agreements/{a.id}"
        if viewer.role == Role.OFFICER and a.state == "draft":
            items.append(todo.TodoItem(area, f"发出签署：{a.parties['member']['name']}", link, a.number))
        elif a.state == "signing" and (mine := party_of(viewer, a)) is not None and mine in a.awaiting:
            items.append(
                todo.TodoItem(area, f"签署联盟协议书：{a.parties['member']['name']}", link, a.number, urgent=True)
            )
    return items


todo.register("agreements", _todo, roles=SIGNING_ROLES | {Role.OFFICER}, order=20)


@router.get("/agreements")
def agreement_list(page: UserPage, state: str = "") -> Response:
    rows = service.list_visible(session=page.db, viewer=page.viewer, state=state or None)
    return page.render(
        "agreements/list.html",
        rows=[agreement_out(page.db, page.settings, page.viewer, a) for a in rows],
        state=state,
        states=list(AGREEMENT_WORKFLOW.state_labels.items()),
    )


@router.get("/agreements/bulk")
def bulk_page(page: UserPage) -> Response:
    """Per alliance, the newly approved members whose agreement is still to generate or send."""
    page.viewer.require_role(Role.OFFICER)
    rows = [(a, len(bulk.candidates(page.db, a.id))) for a in registry.list_alliances(session=page.db)]
    return page.render("agreements/bulk.html", rows=rows)


@router.post("/agreements/bulk/{alliance_id}")
def bulk_start(alliance_id: uuid.UUID, page: UserPage) -> Response:
    """Start the job; its page then follows the progress."""
    job = bulk.start_bulk_send(session=page.db, viewer=page.viewer, alliance_id=alliance_id)
    return page.redirect(f"/agreements/bulk/jobs/{job.id}", f"已开始批量生成并发送协议（共 {job.total} 份）")


@router.get("/agreements/bulk/jobs/{job_id}")
def bulk_job(job_id: uuid.UUID, page: UserPage) -> Response:
    page.viewer.require_role(Role.OFFICER)
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    return page.render("agreements/bulk_job.html", job=jobs.JobOut.of(job), alliance=_alliance_name(page, job))


@router.get("/agreements/bulk/jobs/{job_id}/progress")
def bulk_progress(job_id: uuid.UUID, page: UserPage) -> Response:
    """The polled fragment: still awaiting while the job runs, the result once it is finished."""
    page.viewer.require_role(Role.OFFICER)
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    return page.fragment("agreements/_bulk_progress.html", job=jobs.JobOut.of(job))


def _alliance_name(page: SignedInPage, job: jobs.Job) -> str:
    wanted = str(job.params.get("alliance_id", ""))
    return next((a.name for a in registry.list_alliances(session=page.db) if str(a.id) == wanted), "")


@router.get("/agreements/{agreement_id}")
def agreement_detail(agreement_id: uuid.UUID, page: UserPage) -> Response:
    agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
    return _detail(page, agreement)


@router.post("/agreements/{agreement_id}/events/{event}")
def fire(
    agreement_id: uuid.UUID,
    event: str,
    page: UserPage,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    pin: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    fields = {"pin": pin or None} if event == "sign" else {}
    try:
        agreement = events.fire_event(
            session=page.db,
            viewer=page.viewer,
            settings=page.settings,
            objects=page.objects,
            agreement_id=agreement_id,
            event=event,
            version=version,
            comment=comment,
            fields=fields,
            address=page.request.client.host if page.request.client else "",
        )
    except DomainError as exc:
        if not isinstance(exc, ValidationFailed) and not (event == "sign" and exc.code == "wrong_pin"):
            raise  # back to the agreement with the message (WebRoute): the address bar keeps no action URL
        page.db.rollback()
        agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
        if event == "sign" and exc.code == "wrong_pin":
            errors = {"pin": exc.message}
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 200)
        if isinstance(exc, ValidationFailed):
            status = 200  # a form with its errors next to the fields
        return _detail(
            page, agreement, failed_event=event, errors=errors, error=exc.message, status_code=status,
            entered={"comment": comment},
        )  # fmt: skip
    label = AGREEMENT_WORKFLOW.rules[event].label
    return page.redirect(
        f"/agreements/{agreement.id}", f"已{label}：协议现为「{AGREEMENT_WORKFLOW.label(agreement.state)}」"
    )


def _detail(
    page: SignedInPage,
    agreement: Agreement,
    *,
    failed_event: str = "",
    errors: dict[str, str] | None = None,
    error: str = "",
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    out = agreement_out(page.db, page.settings, page.viewer, agreement)
    current = [s for s in out.signatures if not s.void]
    return page.render(
        "agreements/detail.html",
        status_code=status_code,
        a=out,
        signed={s.party: s for s in current},
        party_labels=PARTY_LABELS,
        history=audit.history(page.db, entity_type="agreement", entity_id=agreement.id),
        history_labels=HISTORY_LABELS,
        state_labels=AGREEMENT_WORKFLOW.state_labels,
        documents=list_for_owner(session=page.db, owner_type="agreement", owner_id=agreement.id),
        rules=AGREEMENT_WORKFLOW.rules,
        confirm=CONFIRM,
        failed_event=failed_event,
        errors=errors or {},
        error=error,
        entered=entered or {},
    )
