"""The parameters of a scheme item's method on the scheme page: shown as text for the inputs, read back from
the form with a Chinese message next to each input, and described in words for those who only read.

Inputs are named ``p-<row>-<param>``; the attendance bands ``p-<row>-band-<i>-min`` and ``-points``. A row's
hidden ``pmethod-<row>`` says which method the inputs were drawn for: after the method is changed in the
select, the new method starts from its defaults (its inputs appear when the page is shown again)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from workflows.activities.vocabulary import FORMATS, MIN_CENTRALISED
from workflows.evaluations.scheme import METHOD_PARAMS

WORK_KINDS = {"plan": "学期计划", "summary": "学期小结"}
BAND_ROWS = 4  # the bands shown: the stored ones and blanks up to this many
NUMBER = re.compile(r"\d+(\.\d+)?")
# What each method's inputs are, in order: name, label, kind (int, number, percent, choice, formats, bands).
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "semester_work": [
        ("kind", "计分对象", "choice"),
        ("late_share", "逾期提交得该学期份额的百分比（0–100）", "percent"),
    ],
    "activity_count": [
        ("per_semester", f"每学期最少次数（留空按学期设置；不少于 {MIN_CENTRALISED} 次）", "int"),
        ("per_missing", "每缺一次扣分", "number"),
    ],
    "attendance": [("bands", "出勤率分档", "bands")],
    "domains": [("min_domains", "满分须覆盖的领域数（1–6）", "int")],
    "visits": [("target", "全年目标次数", "int"), ("formats", "计入的活动形式", "formats")],
}


def _g(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def shown(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Stored (or default) parameters as the inputs show them."""
    full = METHOD_PARAMS[method].model_validate(params).model_dump(mode="json")
    out: dict[str, Any] = {}
    for name, _, kind in FIELDS.get(method, []):
        value = full[name]
        if kind == "percent":
            out[name] = _g(round(value * 100, 4))
        elif kind == "bands":
            out[name] = [[_g(float(a)), _g(float(b))] for a, b in sorted(value, reverse=True)]
        elif kind == "formats":
            out[name] = list(value)
        else:
            out[name] = _g(value)
    return out


def typed(form: FormData, n: int, method: str) -> dict[str, Any]:
    """The parameter inputs of row ``n`` as typed (to show again)."""
    out: dict[str, Any] = {}
    for name, _, kind in FIELDS.get(method, []):
        if kind == "bands":
            i, bands = 0, []
            while f"p-{n}-band-{i}-min" in form:
                bands.append([str(form.get(f"p-{n}-band-{i}-{part}", "")).strip() for part in ("min", "points")])
                i += 1
            out[name] = bands
        elif kind == "formats":
            out[name] = [str(v) for v in form.getlist(f"p-{n}-formats")]
        else:
            out[name] = str(form.get(f"p-{n}-{name}", "")).strip()
    return out


def _number(text: str, field: str, errors: dict[str, str], *, whole: bool = False) -> float | int | None:
    if not NUMBER.fullmatch(text):
        errors[field] = "请填写整数" if whole else "请填写数字"
        return None
    if whole and "." in text:
        errors[field] = "请填写整数"
        return None
    return int(text) if whole else float(text)


def parse(
    n: int, method: str, values: dict[str, Any], max_points: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed inputs → the method's parameters, or errors keyed by input id (``p-<row>-<param>``)."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, _, kind in FIELDS.get(method, []):
        field, value = f"p-{n}-{name}", values.get(name)
        if kind == "choice":
            params[name] = value
        elif kind == "formats":
            if not value:
                errors[field] = "请至少选择一种活动形式"
            params[name] = value
        elif kind == "bands":
            params[name] = _bands(n, value or [], max_points, errors)
        elif kind == "int" and name == "per_semester" and not value:
            params[name] = None
        elif kind == "percent":
            share = _number(str(value), field, errors)
            if share is not None and share > 100:
                errors[field] = "不能超过 100"
            params[name] = None if share is None else round(share / 100, 6)
        else:
            params[name] = _number(str(value), field, errors, whole=kind == "int")
    # The model's own checks (ranges, the plan's floor) for every input that read well, so each wrong
    # input gets its message in one go; those already wrong keep theirs.
    readable = {k: v for k, v in params.items() if not any(e.startswith(f"p-{n}-{k}") for e in errors)}
    if any("-band-" in e for e in errors):
        readable.pop("bands", None)
    try:
        checked = METHOD_PARAMS[method].model_validate(readable).model_dump(mode="json")
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(f"p-{n}-{name}", _message(error))
        return params, errors
    return (params, errors) if errors else (checked, errors)


def _bands(n: int, rows: list[list[str]], max_points: float | None, errors: dict[str, str]) -> list[list[float]]:
    bands: list[list[float]] = []
    for i, (minimum, pts) in enumerate(rows):
        if not minimum and not pts:
            continue
        low = _number(minimum, f"p-{n}-band-{i}-min", errors)
        got = _number(pts, f"p-{n}-band-{i}-points", errors)
        if low is not None and low > 100:
            errors[f"p-{n}-band-{i}-min"] = "出勤率不能超过 100%"
        if got is not None and max_points is not None and got > max_points:
            errors[f"p-{n}-band-{i}-points"] = f"分值不能超过该项满分 {max_points:g} 分"
        if low is not None and got is not None:
            if any(low == b[0] for b in bands):
                errors[f"p-{n}-band-{i}-min"] = "出勤率分档的起点不能重复"
            bands.append([low, got])
    if not bands and not errors:
        errors[f"p-{n}-bands"] = "请至少填写一档"
    return sorted(bands, reverse=True)


def _message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    limits = error.get("ctx") or {}
    for key, words in (("ge", "不能小于"), ("gt", "须大于"), ("le", "不能大于"), ("lt", "须小于")):
        if key in limits:
            return f"{words} {limits[key]}"
    return "内容不正确"


def describe(method: str, params: dict[str, Any]) -> str:
    """The parameters in words, for the page of those who read the scheme."""
    p = METHOD_PARAMS[method].model_validate(params).model_dump(mode="json")
    if method == "semester_work":
        return f"{WORK_KINDS[p['kind']]}；逾期提交得该学期份额的 {_g(round(p['late_share'] * 100, 4))}%"
    if method == "activity_count":
        least = f"每学期不少于 {p['per_semester']} 次" if p["per_semester"] else "每学期次数按学期设置"
        return f"{least}；每缺一次扣 {_g(p['per_missing'])} 分"
    if method == "attendance":
        return "；".join(f"≥{_g(float(a))}% 得 {_g(float(b))} 分" for a, b in sorted(p["bands"], reverse=True))
    if method == "domains":
        return f"覆盖 {p['min_domains']} 个领域得满分"
    if method == "visits":
        return f"全年 {p['target']} 次（{'、'.join(p['formats'])}）"
    return ""


ALL_FORMATS = FORMATS
