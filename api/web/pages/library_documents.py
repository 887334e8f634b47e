"""资源库 「添加资料」: the teaching-research office and the section upload a 管理制度 or 课程 document
that belongs to no activity (for one alliance or the whole district). The form posts with htmx and a
progress bar; a refusal comes back next to its field with everything typed kept."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.pages.library import _keywords
from api.web.routing import web_router
from workflows import clock
from workflows.activities.vocabulary import DOMAINS
from workflows.errors import Forbidden, ValidationFailed
from workflows.library import service, uploads
from workflows.library.schemas import AGE_GROUPS, DOCUMENT_KINDS, DocumentBody
from workflows.registry import service as registry

router = web_router()

FIELDS = ("kind", "title", "alliance_id", "year", "domain", "age_group", "keywords")
PATH = "/library/documents/new"


def _entered(form: FormData | None = None) -> dict[str, str]:
    if form is None:
        return {"year": str(clock.today().year)}
    return {name: text(form, name) for name in FIELDS}


def _page(page: SignedInPage, *, errors: FieldErrors | None = None, entered: dict[str, str] | None = None) -> Response:
    context: dict[str, Any] = {
        "errors": errors or {},
        "v": entered or _entered(),
        "kinds": list(DOCUMENT_KINDS.items()),
        "alliances": [(str(a.id), a.name) for a in registry.list_alliances(session=page.db)],
        "domains": DOMAINS,
        "age_groups": AGE_GROUPS,
        "action": PATH,
    }
    if page.htmx:
        return page.fragment("library/_document_form.html", **context)
    return page.render("library/add.html", **context)


def _require_adder(page: SignedInPage) -> None:
    service.require_reader(page.viewer)
    if not uploads.may_add(page.viewer):
        raise Forbidden("只有教研室和成幼科可以向资源库添加资料")


def _body(entered: dict[str, str]) -> tuple[DocumentBody | None, FieldErrors]:
    """The description as typed, with each problem named in plain words next to its field."""
    errors: FieldErrors = {}
    if entered["kind"] not in DOCUMENT_KINDS:
        errors["kind"] = "请选择资料类别（管理制度或课程）"
    if not entered["title"]:
        errors["title"] = "请填写标题"
    alliance_id = None
    if entered["alliance_id"]:
        try:
            alliance_id = uuid.UUID(entered["alliance_id"])
        except ValueError:
            errors["alliance_id"] = "请从列表中选择联盟"
    year = entered["year"]
    if year and (not year.isdigit() or not 2000 <= int(year) <= 2100):
        errors["year"] = "年份应为四位数字，如 2026"
    fields: dict[str, Any] = {
        "kind": entered["kind"],
        "title": entered["title"],
        "alliance_id": alliance_id,
        "year": int(year) if year and "year" not in errors else None,
        "keywords": _keywords(entered["keywords"]),
        **{name: entered[name] for name in ("domain", "age_group") if entered[name]},
    }
    try:
        body = DocumentBody.model_validate(fields)
    except ValidationError as exc:
        return None, {**pydantic_errors(exc), **errors}
    return (None, errors) if errors else (body, {})


def _done(page: SignedInPage, target: str, message: str) -> Response:
    """After the upload: the browser loads the new item's page, which shows ``message`` once."""
    if page.htmx:
        page.web.add_flash(message)
        return Response(status_code=204, headers={"HX-Redirect": target})
    return page.redirect(target, message)


@router.get(PATH)
def add_page(page: UserPage) -> Response:
    _require_adder(page)
    return _page(page)


@router.post(PATH)
def add_document(page: UserPage, form: FormDep) -> Response:
    _require_adder(page)
    entered = _entered(form)
    file = form.get("file")
    body, errors = _body(entered)
    if not isinstance(file, UploadFile) or not file.filename:
        errors["file"] = "请选择要上传的文件（.docx 或 PDF）"
    elif errors:
        errors["file"] = "其他内容有误，改正后请重新选择文件"
    if body is None or errors:
        return _page(page, errors=errors, entered=entered)
    if not isinstance(file, UploadFile):
        raise TypeError("expected isinstance(file, UploadFile)")
    try:
        item = uploads.add_document(
            session=page.db, viewer=page.viewer, objects=page.objects, settings=page.settings,
            body=body, stream=file.file, filename=file.filename or "",
        )  # fmt: skip
    except ValidationFailed as exc:
        page.db.rollback()
        return _page(page, errors=domain_errors(exc), entered=entered)
    message = f"「{item.title}」已加入资源库" + ("，正文读取后即可全文检索" if item.text_state == "pending" else "")
    return _done(page, f"/library/{item.id}", message)
