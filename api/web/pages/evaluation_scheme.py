"""The year's evaluation scheme (考核方案) on a page: the bureau reads it, the officer edits it until the
year opens — items, points, who scores them, veto and bonus items — checked as the service checks it
(unique items, base points adding up to 100, bonus on top)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import pydantic_errors
from api.web.pages import evaluation_params as params
from api.web.routing import web_router
from workflows.errors import Forbidden, NotFound, ValidationFailed
from workflows.evaluations import scheme
from workflows.evaluations.machine import ASSESSOR_LABELS
from workflows.roles import Role

router = web_router()

BUREAU = (Role.OFFICER, Role.RESEARCHER, Role.ADMIN)
METHOD_LABELS = {
    "manual": "人工评分",
    "semester_work": "学期计划/小结按时",
    "activity_count": "集中研讨活动次数",
    "attendance": "出勤率",
    "materials_complete": "活动资料完整",
    "materials_on_time": "活动资料及时",
    "domains": "领域覆盖",
    "members_active": "成员园承办或展示",
    "visits": "送教、跟岗",
}
NEW_ROWS = 2
FIELDS = ("key", "section", "label", "criteria", "max_points", "assessor", "method")


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise NotFound("考核方案不存在")
    return year


def _rows(current: scheme.Scheme) -> list[dict[str, Any]]:
    rows = [
        item.model_dump(mode="json")
        | {
            "max_points": f"{item.max_points:g}",
            "params": params.shown(item.method, item.params),
            "pmethod": item.method,
            "described": params.describe(item.method, item.params),
        }  # fmt: skip
        for item in current.items
    ]
    return rows + [{"key": "", "method": "manual", "assessor": "officer"} for _ in range(NEW_ROWS)]


def _params(
    form: FormData, n: int, row: dict[str, Any], errors: dict[str, str], stored: dict[str, scheme.SchemeItem]
) -> dict[str, Any] | None:
    """The row's method parameters from its inputs (None when they have errors, which go next to them). When
    the inputs were drawn for another method, the chosen method starts from its defaults; a form without
    them keeps the stored item's parameters while its method stays."""
    method = row["method"]
    if method not in scheme.METHOD_PARAMS:
        return {}
    kept = stored.get(row["key"])
    if not row["pmethod"] and kept is not None and kept.method == method:
        row["params"], row["pmethod"] = params.shown(method, kept.params), method
        return kept.params
    if row["pmethod"] != method or method not in params.FIELDS:
        row["params"], row["pmethod"] = params.shown(method, {}), method
        return {}
    row["params"] = params.typed(form, n, method)
    points = row["max_points"]
    found, problems = params.parse(n, method, row["params"], float(points) if params.NUMBER.fullmatch(points) else None)
    errors.update(problems)
    return None if problems else found


def _sums(rows: list[dict[str, Any]]) -> tuple[float, float]:
    def points(row: dict[str, Any]) -> float:
        text = str(row.get("max_points") or "")
        return float(text) if re.fullmatch(r"\d+(\.\d+)?", text) else 0.0

    kept = [r for r in rows if r.get("label") and not r.get("remove")]
    return sum(points(r) for r in kept if not r.get("bonus")), sum(points(r) for r in kept if r.get("bonus"))


def _show(
    page: SignedInPage, year: int, rows: list[dict[str, Any]], errors: dict[str, str], status: int = 200
) -> Response:
    base, bonus = _sums(rows)
    return page.render(
        "evaluations/scheme.html", status_code=status, year=year, rows=rows, errors=errors, base=base, bonus=bonus,
        locked=scheme.is_open(session=page.db, year=year), version=scheme.scheme_version(session=page.db, year=year),
        may_edit=page.viewer.role == Role.OFFICER, assessors=ASSESSOR_LABELS, methods=METHOD_LABELS,
        param_fields=params.FIELDS, work_kinds=params.WORK_KINDS, formats=params.ALL_FORMATS, band_rows=params.BAND_ROWS,
    )  # fmt: skip


@router.get("/evaluations/schemes/{year}")
def scheme_page(year: int, page: UserPage) -> Response:
    page.viewer.require_role(*BUREAU)
    year = _year(year)
    return _show(page, year, _rows(scheme.scheme_for(session=page.db, year=year)), {})


def _read(
    form: FormData, current: scheme.Scheme
) -> tuple[list[dict[str, Any]], list[scheme.SchemeItem], dict[str, str]]:
    """The rows as typed (to show again) and the items to save; a row's errors go to its inputs."""
    stored = {i.key: i for i in current.items}
    rows: list[dict[str, Any]] = []
    items: list[scheme.SchemeItem] = []
    errors: dict[str, str] = {}
    n = 0
    while f"label-{n}" in form or f"key-{n}" in form:
        row: dict[str, Any] = {f: str(form.get(f"{f}-{n}", "")).strip() for f in FIELDS}
        row |= {"veto": bool(form.get(f"veto-{n}")), "bonus": bool(form.get(f"bonus-{n}")),
                "remove": bool(form.get(f"remove-{n}")), "pmethod": str(form.get(f"pmethod-{n}", ""))}  # fmt: skip
        rows.append(row)
        if row["remove"] or not (row["label"] or row["key"]):
            n += 1
            continue
        data = {f: row[f] for f in FIELDS if row[f]} | {"veto": row["veto"], "bonus": row["bonus"]}
        found = _params(form, n, row, errors, stored)
        if found is None:
            n += 1
            continue
        data["params"] = found
        try:
            items.append(scheme.SchemeItem.model_validate(data))
        except ValidationError as exc:
            for name, message in pydantic_errors(exc).items():
                errors.setdefault(f"{name if name in FIELDS else 'row'}-{n}", message)
        n += 1
    return rows, items, errors


@router.post("/evaluations/schemes/{year}")
def save(year: int, page: UserPage, form: FormDep) -> Response:
    year = _year(year)
    page.viewer.require_role(*BUREAU)
    if page.viewer.role != Role.OFFICER:  # before reading the form: nothing typed here is the researcher's to save
        raise Forbidden("只有成幼科可以设置考核方案")
    rows, items, errors = _read(form, scheme.scheme_for(session=page.db, year=year))
    version = str(form.get("version", ""))
    try:
        if errors:
            raise ValidationFailed.single("form", "invalid", "有项目填写不正确，请检查标出的内容")
        try:
            new = scheme.Scheme(items=items)
        except ValidationError as exc:
            raise ValidationFailed.single("form", "invalid", next(iter(pydantic_errors(exc).values()))) from None
        scheme.save_scheme(session=page.db, viewer=page.viewer, year=year, scheme=new,
                           version=int(version) if version.isdigit() else None)  # fmt: skip
    except ValidationFailed as exc:  # other refusals (locked, stale, not the officer): back with the message
        page.db.rollback()
        errors.setdefault("form", exc.message)
        return _show(page, year, rows, errors)
    return page.redirect(f"/evaluations/schemes/{year}", f"已保存 {year} 年度考核方案（{len(items)} 项）")
