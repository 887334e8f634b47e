"""The officer edits a draft agreement before sending it: its term, special clauses and signing route.

The route is entered as one step number per party: parties given the same number sign in the same
step (会签), and the numbers need not be consecutive. Every problem is shown next to its input, and
what was typed comes back with it.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, text
from api.web.routing import web_router
from workflows.agreements import reading, service
from workflows.agreements.machine import AGREEMENT_WORKFLOW, EDITABLE_STATES
from workflows.agreements.models import Agreement
from workflows.agreements.parties import PARTY_LABELS, party_label
from workflows.agreements.views import agreement_out
from workflows.errors import DomainError, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.roles import Role

router = web_router()

CLAUSES_MAX = 4000
DATE_LABELS = {"term_start": "协议起始日期", "term_end": "协议期满日期"}


def _editable(page: SignedInPage, agreement_id: uuid.UUID) -> Agreement:
    agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
    if page.viewer.role != Role.OFFICER:
        raise NotFound()
    if agreement.state not in EDITABLE_STATES:
        state = AGREEMENT_WORKFLOW.label(agreement.state)
        raise TransitionNotAllowed(f"协议当前为「{state}」，只有草稿或被退回的协议可以修改")
    return agreement


def _values(agreement: Agreement) -> dict[str, str]:
    values = {
        "term_start": agreement.term_start.isoformat(),
        "term_end": agreement.term_end.isoformat(),
        "special_clauses": agreement.special_clauses,
    }
    for n, step in enumerate(agreement.route, start=1):
        values |= {f"route_{party}": str(n) for party in step}
    return values


@router.get("/agreements/{agreement_id}/terms")
def terms_page(agreement_id: uuid.UUID, page: UserPage) -> Response:
    agreement = _editable(page, agreement_id)
    return _page(page, agreement, values=_values(agreement))


def _parse(agreement: Agreement, form: Any) -> tuple[dict[str, Any], FieldErrors, dict[str, str]]:
    """The form's values for ``update_terms``, the problems found reading them, and what was typed."""
    typed = {name: text(form, name) for name in ("term_start", "term_end")}
    typed["special_clauses"] = str(form.get("special_clauses") or "")
    parsed: dict[str, Any] = {}
    errors: FieldErrors = {}
    for name, label in DATE_LABELS.items():
        if not typed[name]:
            errors[name] = f"请填写{label}"
            continue
        try:
            parsed[name] = date.fromisoformat(typed[name])
        except ValueError:
            errors[name] = f"{label}格式不正确，应为 年-月-日"
    if len(typed["special_clauses"].strip()) > CLAUSES_MAX:
        errors["special_clauses"] = (
            f"特别约定不能超过 {CLAUSES_MAX} 字（现为 {len(typed['special_clauses'].strip())} 字）"
        )
    parsed["special_clauses"] = typed["special_clauses"]
    steps: dict[str, int] = {}
    for party in agreement.party_keys:
        raw = typed[f"route_{party}"] = text(form, f"route_{party}")
        if raw.isdigit() and 1 <= int(raw) <= len(agreement.party_keys):
            steps[party] = int(raw)
        else:
            errors[f"route_{party}"] = f"请为{PARTY_LABELS[party]}选择签署步骤"
    # Equal numbers sign together; gaps close up (1, 3 → steps 1 and 2).
    parsed["route"] = [[p for p in agreement.party_keys if steps.get(p) == n] for n in sorted(set(steps.values()))]
    return parsed, errors, typed


@router.post("/agreements/{agreement_id}/terms")
def save_terms(agreement_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    agreement = _editable(page, agreement_id)
    parsed, errors, typed = _parse(agreement, form)
    version = text(form, "version")
    if errors:
        return _page(page, agreement, values=typed, errors=errors)
    try:
        agreement = service.update_terms(
            session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects,
            agreement_id=agreement_id, version=int(version) if version.isdigit() else -1, **parsed,
        )  # fmt: skip
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.db.rollback()
        agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
        return _page(page, agreement, values=typed, errors=errors, error="" if errors else exc.message)
    return page.redirect(f"/agreements/{agreement.id}", "已保存协议期限、特别约定和签署顺序，并生成新的协议草稿")


def _page(
    page: SignedInPage,
    agreement: Agreement,
    *,
    values: dict[str, str],
    errors: FieldErrors | None = None,
    error: str = "",
) -> Response:
    errors = errors or {}
    placed = {"term_start", "term_end", "special_clauses", "route", *(f"route_{p}" for p in agreement.party_keys)}
    return page.render(
        "agreements/terms.html",
        a=agreement_out(page.db, page.settings, page.viewer, agreement),
        parties=[(p, party_label(p), agreement.parties[p]["name"]) for p in agreement.party_keys],
        steps=range(1, len(agreement.party_keys) + 1),
        values=values,
        errors=errors,
        unplaced=[m for name, m in errors.items() if name not in placed],
        error=error,
        preview=reading.draft_text(page.db, page.objects, agreement),
        clauses_max=CLAUSES_MAX,
    )
