"""Filling in the application: new draft, edit, inline field checks, attachments with progress."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import File, Form, UploadFile
from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, unplaced
from api.web.pages import application_fields as fields
from api.web.routing import web_router
from storage.objects import ObjectTooLarge
from workflows.applications import events, service
from workflows.applications.machine import EDITABLE_STATES
from workflows.applications.models import Application
from workflows.applications.schemas import AttachmentKind
from workflows.errors import Conflict, DomainError, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.registry import service as registry
from workflows.roles import Role

router = web_router()

CHECK_URL = "/applications/check-field"


@router.get("/applications/new")
def new_form(page: UserPage) -> Response:
    _require_applicant(page)
    return _form_page(page, None, _prefill(page))


@router.post("/applications/new")
def create(page: UserPage, form: FormDep) -> Response:
    _require_applicant(page)
    values = fields.raw_values(form)
    parsed = fields.parse(values)
    if not isinstance(parsed, dict):
        try:
            application = service.create(session=page.db, viewer=page.viewer, form=parsed)
        except ValidationFailed as exc:
            parsed = domain_errors(exc)
        except Conflict as exc:
            page.db.rollback()
            return _form_page(page, None, values, error=exc.message)
        else:
            return page.redirect(f"/applications/{application.id}/edit", "草稿已保存。请继续上传证明材料，然后提交。")
    page.db.rollback()
    return _form_page(page, None, values, errors=parsed)


@router.get("/applications/{application_id}/edit")
def edit_form(application_id: uuid.UUID, page: UserPage) -> Response:
    application = _editable(page, application_id)
    if isinstance(application, Response):
        return application
    return _form_page(page, application, fields.stored_values(application.form))


@router.post("/applications/{application_id}/edit")
def save(application_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    """Save the draft; with ``action=submit`` also submit it, keeping the saved draft if that fails."""
    application = _editable(page, application_id)
    if isinstance(application, Response):
        return application
    values = fields.raw_values(form)
    parsed = fields.parse(values)
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = -1
    if isinstance(parsed, dict):
        return _form_page(page, application, values, errors=parsed)
    try:
        application = service.update_form(
            session=page.db, viewer=page.viewer, application_id=application_id, version=version, form=parsed
        )
    except DomainError as exc:
        page.db.rollback()
        application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
        return _form_page(page, application, values, errors=errors, error=exc.message)
    if form.get("action") != "submit":
        return page.redirect(f"/applications/{application.id}/edit", "草稿已保存")
    page.db.commit()  # the saved draft stays even when the submission below is refused
    try:
        events.fire_event(
            session=page.db,
            settings=page.settings,
            viewer=page.viewer,
            objects=page.objects,
            application_id=application.id,
            event="submit",
            version=application.version,
        )
    except DomainError as exc:
        page.db.rollback()
        application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
        errors = domain_errors(exc) if isinstance(exc, ValidationFailed) else {}
        return _form_page(
            page,
            application,
            fields.stored_values(application.form),
            errors=errors,
            error=f"草稿已保存，但还不能提交：{exc.message}",
        )
    return page.redirect(f"/applications/{application.id}", "申请已提交，请等待成幼科审核")


@router.post(CHECK_URL)
def check_field(page: UserPage, form: FormDep) -> Response:
    """Inline check of the field that just changed (htmx): its error, or nothing."""
    name = page.request.headers.get("HX-Trigger-Name", "")
    parsed = fields.parse(fields.raw_values(form))
    message = parsed.get(name, "") if isinstance(parsed, dict) else ""
    return page.fragment("applications/_field_error.html", name=name, message=message)


@router.post("/applications/{application_id}/attachments")
def upload(
    application_id: uuid.UUID,
    page: UserPage,
    kind: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Upload one scan; htmx swaps in the attachment's row with its preview (or its error)."""
    try:
        attachment_kind = AttachmentKind(kind)
    except ValueError:
        raise NotFound("附件类型不存在") from None
    error = ""
    try:
        service.add_attachment(
            session=page.db,
            viewer=page.viewer,
            objects=page.objects,
            settings=page.settings,
            application_id=application_id,
            kind=attachment_kind,
            stream=file.file,
            filename=file.filename or attachment_kind.value,
        )
    except (ValidationFailed, TransitionNotAllowed) as exc:
        page.db.rollback()
        error = exc.message
    except ObjectTooLarge as exc:
        page.db.rollback()
        error = f"文件过大：不能超过 {exc.limit / 1024 / 1024:.0f} MB"
    application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
    if not page.htmx:
        return page.redirect(f"/applications/{application_id}/edit", error or "文件已上传", "error" if error else "ok")
    # 200 either way, so htmx swaps the row in and the message shows next to the file input.
    return page.fragment(
        "applications/_attachment.html",
        app_id=application.id,
        slot=fields.attachment_slots(application)[attachment_kind.value],
        error=error,
        editable=True,
        preview_open=False,
    )


def _require_applicant(page: SignedInPage) -> None:
    if page.viewer.role != Role.APPLICANT or page.viewer.kindergarten_id is None:
        raise NotFound()


def _editable(page: SignedInPage, application_id: uuid.UUID) -> Application | Response:
    """The viewer's own application if it may be edited now; otherwise a redirect to read it."""
    application = service.get_visible(session=page.db, viewer=page.viewer, application_id=application_id)
    if page.viewer.role != Role.APPLICANT or application.kindergarten_id != page.viewer.kindergarten_id:
        raise NotFound("申请不存在")
    if application.state not in EDITABLE_STATES:
        return page.redirect(f"/applications/{application.id}", "申请已提交，当前不能修改", "error")
    return application


def _prefill(page: SignedInPage) -> dict[str, Any]:
    """A new application starts from what the registry already knows about the kindergarten."""
    if page.viewer.kindergarten_id is None:
        raise RuntimeError("expected page.viewer.kindergarten_id is not None")
    k = registry.get_kindergarten(
        session=page.db, viewer=page.viewer, kindergarten_id=page.viewer.kindergarten_id
    ).kindergarten
    known = {
        "name": k.name,
        "credit_code": k.credit_code,
        "licence_no": k.licence_no,
        "licence_issued_on": k.licence_issued_on.isoformat() if k.licence_issued_on else None,
        "head_name": k.head_name,
        "head_phone": k.head_phone,
        "contact_name": k.contact_name,
        "contact_phone": k.contact_phone,
        "address": k.address,
        "town": k.town,
    }
    return {"needs": [], **{name: value for name, value in known.items() if value}}


def _form_page(
    page: SignedInPage,
    application: Application | None,
    values: dict[str, Any],
    *,
    errors: FieldErrors | None = None,
    error: str = "",
) -> Response:
    errors = errors or {}
    slots = fields.attachment_slots(application) if application is not None else {}
    placed = set(fields.FIELDS) | {f"attachments.{kind}" for kind in slots}
    alliances = [a for a in registry.list_alliances(session=page.db) if a.active]
    return page.render(
        "applications/form.html",
        app=application,
        sections=fields.SECTIONS,
        values=values,
        errors=errors,
        summary=unplaced(errors, placed),
        error=error,
        alliance_options=[(str(a.id), f"{a.name}（{a.code}）") for a in alliances],
        slots=slots,
        check_url=CHECK_URL,
    )
