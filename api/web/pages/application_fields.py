"""The application form (申请表) on screen: sections, inputs, help texts, and reading it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from api.web.forms import FieldErrors, present, pydantic_errors
from templates.district import BUREAU_SHORT
from workflows.applications.documents import COMMITMENTS
from workflows.applications.models import Application
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    FIELD_LABELS,
    INSPECTION_LABELS,
    NEEDS,
    OPTIONAL_ON_SUBMIT,
    OWNERSHIP_LABELS,
    REQUIRED_ATTACHMENTS,
    ApplicationForm,
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text, tel, date, number, select, textarea, checkboxes, checkbox
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.name]

    @property
    def required(self) -> bool:
        """Required to submit; a draft may leave it empty."""
        return self.name not in OPTIONAL_ON_SUBMIT


COUNT = {"min": "0", "step": "1", "inputmode": "numeric"}
AREA = {"min": "0", "step": "0.1", "inputmode": "decimal"}
PHONE_HELP = "手机 11 位，或区号-座机号，如 0791-88886666"
YES_NO = (("true", "是"), ("false", "否"))

SECTIONS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = (
    (
        "园所基本信息",
        (
            FieldSpec("name", "text", "与办园许可证上的名称一致", attrs={"maxlength": "100"}),
            FieldSpec(
                "credit_code",
                "text",
                "18 位，见民办非企业单位登记证书或营业执照；最后一位是校验位",
                attrs={"maxlength": "18", "autocomplete": "off", "spellcheck": "false"},
            ),
            FieldSpec("licence_no", "text", "办园许可证上的证号", attrs={"maxlength": "50"}),
            FieldSpec("licence_issued_on", "date", "取得办园许可证满一年方可申请"),
            FieldSpec("sponsor", "text", "举办单位或个人", attrs={"maxlength": "100"}),
            FieldSpec("legal_representative", "text", attrs={"maxlength": "50"}),
            FieldSpec("ownership", "select", options=tuple((k.value, v) for k, v in OWNERSHIP_LABELS.items())),
            FieldSpec("inclusive", "select", "是否为认定的普惠性民办幼儿园", options=YES_NO),
        ),
    ),
    (
        "联系方式",
        (
            FieldSpec("head_name", "text", attrs={"maxlength": "50"}),
            FieldSpec("head_phone", "tel", PHONE_HELP, attrs={"inputmode": "tel"}),
            FieldSpec("contact_name", "text", f"负责与联盟、{BUREAU_SHORT}日常联络的老师", attrs={"maxlength": "50"}),
            FieldSpec("contact_phone", "tel", PHONE_HELP, attrs={"inputmode": "tel"}),
            FieldSpec("address", "text", attrs={"maxlength": "200"}),
            FieldSpec("town", "text", "如「罗家镇」；系统据此建议同乡镇的联盟", attrs={"maxlength": "50"}),
        ),
    ),
    (
        "办园规模",
        (
            FieldSpec("classes", "number", "申请入盟须不少于 3 个班", attrs=COUNT),
            FieldSpec("children", "number", attrs=COUNT),
            FieldSpec("staff", "number", attrs=COUNT),
            FieldSpec("teachers", "number", attrs=COUNT),
            FieldSpec("certified_teachers", "number", "持有幼儿园教师资格证的人数，不多于专任教师数", attrs=COUNT),
            FieldSpec("site_area_m2", "number", "单位：平方米", attrs=AREA),
            FieldSpec("building_area_m2", "number", "单位：平方米", attrs=AREA),
        ),
    ),
    (
        "年检与安全",
        (
            FieldSpec("last_inspection_year", "number", "如 2025", attrs={"min": "1990", "max": "2100", "step": "1"}),
            FieldSpec(
                "last_inspection_result", "select", options=tuple((k.value, v) for k, v in INSPECTION_LABELS.items())
            ),
            FieldSpec("penalties_last_3_years", "number", "没有请填 0", attrs=COUNT),
            FieldSpec("safety_incidents_last_3_years", "number", "没有请填 0", attrs=COUNT),
        ),
    ),
    (
        "申请内容",
        (
            FieldSpec("preferred_alliance_id", "select", f"可不选：{BUREAU_SHORT}将按就近原则统筹安排"),
            FieldSpec(
                "reasons", "textarea", "简述加入联盟的原因和希望得到的帮助", attrs={"maxlength": "4000", "rows": "5"}
            ),
            FieldSpec("needs", "checkboxes", "可多选", options=tuple((n, n) for n in NEEDS)),
            FieldSpec("commitments_accepted", "checkbox", COMMITMENTS),
        ),
    ),
)
FIELDS = {spec.name: spec for _, specs in SECTIONS for spec in specs}
TEXT_FIELDS = tuple(name for name, spec in FIELDS.items() if spec.kind not in ("checkboxes", "checkbox"))


def raw_values(form: FormData) -> dict[str, Any]:
    """What the person typed, to show again when the form comes back with errors."""
    values: dict[str, Any] = present(form, TEXT_FIELDS)
    values["needs"] = [v for v in form.getlist("needs") if isinstance(v, str)]
    values["commitments_accepted"] = "true" if form.get("commitments_accepted") == "true" else ""
    return values


def plain(value: Any) -> str:
    """A value as text; 1800.0 square metres reads 1800."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stored_values(stored: dict[str, Any]) -> dict[str, Any]:
    """A saved form as input values: booleans as "true"/"false", numbers as text."""
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, list):
            values[name] = value
        elif value is not None:
            values[name] = plain(value)
    values.setdefault("needs", [])
    return values


def parse(values: dict[str, Any]) -> ApplicationForm | FieldErrors:
    """The form as the domain takes it, or every field error; empty inputs are "not filled in"."""
    data = {name: value for name, value in values.items() if value not in ("", [], None)}
    if data.get("commitments_accepted") != "true":
        data.pop("commitments_accepted", None)
    try:
        return ApplicationForm.model_validate(data)
    except ValidationError as exc:
        return pydantic_errors(exc)


def attachment_slots(application: Application) -> dict[str, dict[str, Any]]:
    """One slot per attachment kind: its current file and the files it replaced."""
    slots: dict[str, dict[str, Any]] = {
        kind.value: {
            "kind": kind.value,
            "label": label,
            "required": kind in REQUIRED_ATTACHMENTS,
            "current": None,
            "older": [],
        }
        for kind, label in ATTACHMENT_LABELS.items()
    }
    for a in application.attachments:
        slot = slots[a.kind]
        if a.replaced_at is None:
            slot["current"] = a
        else:
            slot["older"].append(a)
    return slots
