"""申请细则: eligibility checks shown to the reviewer. They advise; the officer decides."""

from __future__ import annotations

from datetime import date
from typing import Any

from workflows.applications.schemas import ApplicationForm, InspectionResult

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
RESULT_LABELS = {OK: "符合", FAIL: "不符合", UNKNOWN: "待核实"}
MIN_CLASSES = 3


def _years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def check(form: ApplicationForm, *, today: date) -> list[dict[str, Any]]:
    """Compute each rule's result with a short explanation in Chinese."""
    checks: list[dict[str, Any]] = []

    def add(key: str, label: str, result: str, detail: str) -> None:
        checks.append({"key": key, "label": label, "result": result, "detail": detail})

    if form.licence_issued_on is None:
        add("licence_age", "办园许可证满一年", UNKNOWN, "未填写发证日期")
    else:
        years = _years_between(form.licence_issued_on, today)
        add(
            "licence_age",
            "办园许可证满一年",
            OK if years >= 1 else FAIL,
            f"发证于 {form.licence_issued_on.isoformat()}，已满 {years} 年"
            if years >= 1
            else f"发证于 {form.licence_issued_on.isoformat()}，不满一年",
        )

    if form.last_inspection_result is None or form.last_inspection_year is None:
        add("inspection", "最近一次年检合格", UNKNOWN, "未填写年检年度或结果")
    else:
        recent = form.last_inspection_year >= today.year - 1
        passed = form.last_inspection_result == InspectionResult.PASSED
        result = OK if passed and recent else FAIL if not passed else UNKNOWN
        detail = f"{form.last_inspection_year} 年年检：{'合格' if passed else '未合格'}"
        if passed and not recent:
            detail += "（年检年度较早，请核实最新年检）"
        add("inspection", "最近一次年检合格", result, detail)

    if form.classes is None:
        add("classes", f"班级数不少于 {MIN_CLASSES} 个", UNKNOWN, "未填写班级数")
    else:
        add(
            "classes",
            f"班级数不少于 {MIN_CLASSES} 个",
            OK if form.classes >= MIN_CLASSES else FAIL,
            f"现有 {form.classes} 个班",
        )

    if form.penalties_last_3_years is None:
        add("penalties", "近三年无行政处罚", UNKNOWN, "未申报")
    else:
        add(
            "penalties",
            "近三年无行政处罚",
            OK if form.penalties_last_3_years == 0 else FAIL,
            "申报无处罚" if form.penalties_last_3_years == 0 else f"申报处罚 {form.penalties_last_3_years} 次",
        )

    if form.safety_incidents_last_3_years is not None:
        add(
            "safety",
            "近三年无安全事故",
            OK if form.safety_incidents_last_3_years == 0 else FAIL,
            "申报无事故"
            if form.safety_incidents_last_3_years == 0
            else f"申报事故 {form.safety_incidents_last_3_years} 起",
        )
    return checks
