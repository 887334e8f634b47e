"""What a roster entry may hold: pure checks shared by the API, the pages and the .xlsx import.

Each check takes what a person typed and returns the value to store, or raises ValueError with
the Chinese reason (pydantic shows it next to the field; the import names the row and column).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from workflows import clock
from workflows.registry.models import LEVEL_LABELS, RESEARCH_HEAD_POST, TeacherLevel

# The posts a kindergarten's staff usually hold; the field takes any other title too.
POSTS = ("园长", RESEARCH_HEAD_POST, "副园长", "保教主任", "教研组长", "年级组长", "教师", "保育员", "保健医生")
DEFAULT_POST = "教师"
STATUS_LABELS = {True: "在职", False: "离职"}
LEVEL_BY_LABEL = {label: level for level, label in LEVEL_LABELS.items()}

NAME_MAX = 50
POST_MAX = 50
CODE_MAX = 32
OLDEST_BIRTH_YEAR = 1940
YOUNGEST_AGE = 16

PHONE_FORMAT = "手机号为 1 开头的 11 位数字，座机如 0791-88886666"
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes 010 and 02x have three digits, every other one four; the local number 7 or 8.
_LANDLINE = re.compile(r"(0[12]\d|0[3-9]\d{2})(\d{7,8})")
_SEPARATORS = re.compile(r"[\s\-()]")


def district_today() -> date:
    return clock.today()


def normalise_phone(value: str) -> str:
    """A mainland mobile (11 digits) or a landline (``0791-88886666``), as one form for comparing."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if text.startswith("+86"):
        text = text[3:]
    if _MOBILE.fullmatch(text):
        return text
    landline = _LANDLINE.fullmatch(text)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise ValueError(f"电话号码格式不正确（{PHONE_FORMAT}）")


def birth_year_range(today: date | None = None) -> tuple[int, int]:
    year = (today or district_today()).year
    return OLDEST_BIRTH_YEAR, year - YOUNGEST_AGE


def check_birth_year(value: int, today: date | None = None) -> int:
    low, high = birth_year_range(today)
    if not low <= value <= high:
        raise ValueError(f"出生年份须在 {low} 至 {high} 年之间")
    return value


def parse_birth_year(value: str) -> int:
    """A year as typed in a form or a cell (``1988``, ``1988年``, ``1988.0``)."""
    text = unicodedata.normalize("NFKC", value).strip().removesuffix("年")
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit() or len(text) != 4:
        raise ValueError("出生年份须为四位数字，例如 1990")
    return check_birth_year(int(text))


def clean_name(value: str) -> str:
    name = " ".join(unicodedata.normalize("NFKC", value).split())
    if not name:
        raise ValueError("请填写姓名")
    if len(name) > NAME_MAX:
        raise ValueError(f"姓名不超过 {NAME_MAX} 个字")
    return name


def clean_post(value: str) -> str:
    post = " ".join(value.split())
    if not post:
        raise ValueError("请填写岗位，例如 教师、业务园长")
    if len(post) > POST_MAX:
        raise ValueError(f"岗位不超过 {POST_MAX} 个字")
    return post


def level_of(value: str) -> TeacherLevel:
    """A level by its key (``backbone``) or its Chinese name (骨干教师)."""
    if value in LEVEL_BY_LABEL:
        return LEVEL_BY_LABEL[value]
    try:
        return TeacherLevel(value)
    except ValueError:
        raise ValueError(f"请选择教师层级（{'、'.join(LEVEL_LABELS.values())}）") from None
