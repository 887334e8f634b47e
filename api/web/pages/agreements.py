"""Alliance agreements: the list, one agreement (parties, route, signatures, files, its terms), its
events and renewal.

Signing has a page of its own (``agreement_signing``): the text first, then the PIN. The officer
edits a draft on ``agreement_terms`` and generates the agreements of whole alliances on
``agreement_members``. Importing this module also connects the public verification page.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.routes.files import stream_object
from api.web import nav, todo
from api.web.deps import SignedInPage, UserPage
from api.web.forms import domain_errors
from api.web.pages import verification as _verification  # noqa: F401  (connects /verify)
from api.web.pages.agreement_signing import sign_and_answer
from api.web.routing import web_router
from workflows import audit, clock, jobs
from workflows.access import Viewer
from workflows.agreements import bulk, events, freezing, reading, renewal, service
from workflows.agreements.documents import subject_of
from workflows.agreements.machine import AGREEMENT_WORKFLOW, EDITABLE_STATES
from workflows.agreements.models import MEMBER, Agreement
from workflows.agreements.parties import PARTY_LABELS, party_of
from workflows.agreements.views import agreement_out
from workflows.errors import DomainError, Forbidden, NotFound, TooManyAttempts, TransitionNotAllowed, ValidationFailed
from workflows.registry import service as registry
from workflows.roles import Role
from workflows.withdrawals import service as withdrawals

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
# The bulk send of newly approved members' agreements is reached from 成员协议 (agreement_members).

HISTORY_LABELS = {
    "create": "生成协议",
    "edit": "修改协议",
    "freeze": "定稿",
    "pin_refused": "签名密码错误",
    "archive": "归档签署文件",
    "renew": "续签（生成下一期协议）",
    "sign_refused": "签署未成功",
    "decline_refused": "拒签未成功",
} | {name: rule.label for name, rule in AGREEMENT_WORKFLOW.rules.items()}
CONFIRM = {
    "void": "确定作废本协议？作废后不可恢复。",
    "terminate": "确定终止本协议？成员园将退出联盟。",
    "decline": "确定拒签并退回成幼科？本轮已有签名将作废。",
    "renew": "确定为本协议生成下一期（续签）协议草稿？本协议在期满前继续有效。",
}
# The bulk-send job page and its polled fragment (the generation job uses the same templates).
BULK_JOB: dict[str, Any] = {
    "job_title": "批量生成并发送协议",
    "done_label": "已发出签署",
    "links": (("/agreements/bulk", "返回批量发送"), ("/agreements", "查看协议列表")),
}
# HTTP status of a refused event as the page shows it (the message is the service's own).
STATUS = {Forbidden: 403, TransitionNotAllowed: 409, TooManyAttempts: 429, NotFound: 404}


# More drafts than this in one alliance make one 待办 line leading to the alliance's page.
DRAFTS_LISTED_ONE_BY_ONE = 3


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    area = "协议签署"
    items = []
    drafts: dict[uuid.UUID, list[Agreement]] = {}
    for a in service.list_visible(session=session, viewer=viewer):
        link = f"/agreements/{a.id}"
        if viewer.role == Role.OFFICER and a.state == "draft":
            drafts.setdefault(a.alliance_id, []).append(a)
        elif a.state == "signing" and (mine := party_of(viewer, a)) is not None and mine in a.awaiting:
            if freezing.generating(a):  # nothing to sign until the send's job stored the final files
                continue
            items.append(todo.TodoItem(area, f"签署联盟协议书：{subject_of(a)}", f"{link}/sign", a.number, urgent=True))
    for alliance_id, waiting in drafts.items():
        if len(waiting) > DRAFTS_LISTED_ONE_BY_ONE:
            name = waiting[0].alliance.name
            items.append(
                todo.TodoItem(
                    area, f"发出签署：{name}的 {len(waiting)} 份协议草稿", f"/agreements/alliances/{alliance_id}"
                )
            )
        else:
            items += [
                todo.TodoItem(area, f"发出签署：{subject_of(a)}", f"/agreements/{a.id}", a.number) for a in waiting
            ]
    if viewer.role == Role.OFFICER:
        today = clock.today()
        items += [
            todo.TodoItem(area, f"续签协议：{subject_of(a)}（{a.term_end} 期满）", f"/agreements/{a.id}", a.number)
            for a in renewal.due_for_renewal(session=session, today=today)
        ]
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
        withdrawal=_withdrawal_offer(page),
    )


@router.get("/agreements/bulk")
def bulk_page(page: UserPage) -> Response:
    """Per alliance, the agreements still to generate or send (newly approved members, other drafts)."""
    page.viewer.require_role(Role.OFFICER)
    rows = [(a, bulk.waiting(page.db, a.id)) for a in registry.list_alliances(session=page.db)]
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
    return page.render(
        "agreements/bulk_job.html", job=jobs.JobOut.of(job), alliance=_alliance_name(page, job),
        progress_url=f"/agreements/bulk/jobs/{job.id}/progress", **BULK_JOB,
    )  # fmt: skip


@router.get("/agreements/bulk/jobs/{job_id}/progress")
def bulk_progress(job_id: uuid.UUID, page: UserPage) -> Response:
    """The polled fragment: still awaiting while the job runs, the result once it is finished."""
    page.viewer.require_role(Role.OFFICER)
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    return page.fragment(
        "agreements/_bulk_progress.html", job=jobs.JobOut.of(job), progress_url=f"/agreements/bulk/jobs/{job.id}/progress",
        done_label=BULK_JOB["done_label"],
    )  # fmt: skip


def _alliance_name(page: SignedInPage, job: jobs.Job) -> str:
    wanted = str(job.params.get("alliance_id", ""))
    return next((a.name for a in registry.list_alliances(session=page.db) if str(a.id) == wanted), "")


@router.get("/agreements/{agreement_id}")
def agreement_detail(agreement_id: uuid.UUID, page: UserPage) -> Response:
    agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
    return _detail(page, agreement)


@router.get("/agreements/{agreement_id}/final")
def final_version(agreement_id: uuid.UUID, page: UserPage) -> Response:
    """「最终签署版」: the PDF with every signature (or the frozen .docx), named for what it is."""
    agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
    final = reading.files_of(page.db, agreement).final
    if final is None:
        raise NotFound("协议尚未签署完成")
    suffix = ".pdf" if final.content_type == "application/pdf" else ".docx"
    filename = f"{agreement.number}_联盟协议书_最终签署版{suffix}"
    return stream_object(page.objects, final.object_key, filename=filename, content_type=final.content_type)


@router.post("/agreements/{agreement_id}/renew")
def renew(agreement_id: uuid.UUID, page: UserPage, version: Annotated[int, Form()]) -> Response:
    """The officer drafts the next term; the browser goes to its terms, to edit before sending."""
    # A refusal goes back to the agreement with its message (WebRoute).
    renewed = renewal.renew(
        session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects,
        agreement_id=agreement_id, version=version,
    )  # fmt: skip
    return page.redirect(
        f"/agreements/{renewed.id}/terms",
        f"已生成续签协议 {renewed.number}（第 {renewed.term_no} 期），请核对期限后发出签署",
    )


@router.post("/agreements/{agreement_id}/events/{event}")
def fire(
    agreement_id: uuid.UUID,
    event: str,
    page: UserPage,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    pin: Annotated[str, Form(max_length=64)] = "",
    read_confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if event == "sign":  # signing answers on its own page, the text above the PIN
        return sign_and_answer(page, agreement_id, version=version, pin=pin, read_confirmed=read_confirmed == "true")
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
        )
    except DomainError as exc:
        if not isinstance(exc, ValidationFailed) and not (event == "sign" and exc.code == "wrong_pin"):
            raise  # back to the agreement with the message (WebRoute): the address bar keeps no action URL
        page.db.rollback()
        agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
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
    officer = page.viewer.role == Role.OFFICER
    terms = renewal.terms(page.db, agreement)
    return page.render(
        "agreements/detail.html",
        status_code=status_code,
        a=out,
        signed={s.party: s for s in current},
        party_labels=PARTY_LABELS,
        history=audit.history(page.db, entity_type="agreement", entity_id=agreement.id),
        history_labels=HISTORY_LABELS,
        state_labels=AGREEMENT_WORKFLOW.state_labels,
        files=reading.files_of(page.db, agreement),
        # Signing has its own page; the aside offers the other events.
        events=[e for e in out.allowed_events if e != "sign"],
        may_sign="sign" in out.allowed_events,
        freeze_job=jobs.JobOut.of(job)
        if (job := freezing.current_job(page.db, agreement)) and out.files_generating
        else None,
        may_edit=officer and agreement.state in EDITABLE_STATES,
        may_renew=officer and agreement.state == "effective" and renewal.renewal_of(page.db, agreement) is None,
        withdrawal=_withdrawal_offer(page, agreement),
        terms=terms if len(terms) > 1 else [],
        rules=AGREEMENT_WORKFLOW.rules,
        confirm=CONFIRM,
        failed_event=failed_event,
        errors=errors or {},
        unplaced=[m for k, m in (errors or {}).items() if k != "comment"],
        error=error,
        entered=entered or {},
    )


def _withdrawal_offer(page: SignedInPage, agreement: Agreement | None = None) -> dict[str, str] | None:
    """For a member kindergarten (under its own agreement, if one is shown): where to ask to leave its
    alliance, or the request already waiting."""
    membership = withdrawals.current_membership(page.db, page.viewer)
    if membership is None:
        return None
    if agreement is not None and (
        agreement.kind != MEMBER
        or agreement.member_kindergarten_id != page.viewer.kindergarten_id
        or membership.alliance_id != agreement.alliance_id
    ):
        return None
    waiting = withdrawals.pending_of(page.db, membership)
    if waiting is not None:
        return {"href": f"/withdrawals/{waiting.id}", "label": f"查看退出申请 {waiting.number}（待审核）"}
    return {"href": "/withdrawals/new", "label": "申请退出联盟"}
