"""Signing as a person expects: the agreement's whole text first, then 「我已阅读协议全文」 and the PIN.

The text is read from the frozen .docx the signatures cover, so it is exactly what is signed; the
PDF of the same text opens from the page. Ticking the box is checked again by the service: a signer
cannot skip it by posting the form by hand.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.client_address import client_address
from api.web.deps import SignedInPage, UserPage
from api.web.forms import domain_errors
from api.web.routing import web_router
from workflows.agreements import events, reading, service
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement
from workflows.agreements.parties import PARTY_LABELS
from workflows.agreements.views import agreement_out
from workflows.errors import DomainError, Forbidden, NotFound, TooManyAttempts, TransitionNotAllowed, ValidationFailed

router = web_router()

# HTTP status of a refused signature as the page shows it (the message is the service's own).
STATUS = {Forbidden: 403, TransitionNotAllowed: 409, TooManyAttempts: 429, NotFound: 404}
# Problems that belong next to an input of the form; any other is shown above it.
PLACED = ("read_confirmed", "pin")


@router.get("/agreements/{agreement_id}/sign")
def signing_page(agreement_id: uuid.UUID, page: UserPage) -> Response:
    agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
    return _page(page, agreement)


@router.post("/agreements/{agreement_id}/sign")
def sign(
    agreement_id: uuid.UUID,
    page: UserPage,
    version: Annotated[int, Form()],
    pin: Annotated[str, Form(max_length=64)] = "",
    read_confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    return sign_and_answer(page, agreement_id, version=version, pin=pin, read_confirmed=read_confirmed == "true")


def sign_and_answer(
    page: SignedInPage, agreement_id: uuid.UUID, *, version: int, pin: str, read_confirmed: bool
) -> Response:
    """Sign, then back to the agreement; a refusal comes back on the signing page with its message."""
    try:
        agreement = events.fire_event(
            session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects,
            agreement_id=agreement_id, event="sign", version=version,
            fields={"pin": pin or None, "read_confirmed": read_confirmed},
            address=client_address(page.request),
        )  # fmt: skip
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.db.rollback()
        agreement = service.get_visible(session=page.db, viewer=page.viewer, agreement_id=agreement_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
        if exc.code == "wrong_pin":
            errors = {"pin": exc.message}
        unplaced = [m for name, m in errors.items() if name not in PLACED]
        status = (
            200
            if isinstance(exc, ValidationFailed)
            else next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 503)
        )
        error = "" if errors and not unplaced else exc.message
        return _page(
            page, agreement, errors=errors, unplaced=unplaced, error=error, status_code=status,
            read_confirmed=read_confirmed,
        )  # fmt: skip
    state = AGREEMENT_WORKFLOW.label(agreement.state)
    return page.redirect(f"/agreements/{agreement.id}", f"已签署：协议现为「{state}」")


def _page(
    page: SignedInPage,
    agreement: Agreement,
    *,
    errors: dict[str, str] | None = None,
    unplaced: list[str] | None = None,
    error: str = "",
    read_confirmed: bool = False,
    status_code: int = 200,
) -> Response:
    out = agreement_out(page.db, page.settings, page.viewer, agreement)
    return page.render(
        "agreements/sign.html",
        status_code=status_code,
        a=out,
        text=reading.signing_text(page.db, page.objects, agreement),
        files=reading.files_of(page.db, agreement),
        party_labels=PARTY_LABELS,
        may_sign="sign" in out.allowed_events,
        may_decline="decline" in out.allowed_events,
        errors=errors or {},
        unplaced=unplaced or [],
        seal_missing=any(name.startswith("seals.") for name in errors or {}),
        error=error,
        read_confirmed=read_confirmed,
    )
