"""The files of an activity archive bundle's ``00_目录``: index, manifest, cover and the 四性检测 report.

Everything here is a pure function of the archived record (``ArchiveRecord``) and the file checks, so
the same materials always give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from templates.docx import render_docx
from templates.xlsx import fit_column_widths, save_workbook_deterministic
from workflows.activities.vocabulary import CATEGORY_FOLDERS, CATEGORY_LABELS, MaterialCategory
from workflows.clock import BEIJING

COVER_TEMPLATE = "activity_cover.docx"
REPORT_TEMPLATE = "archive_check_report.docx"
RETENTION = "10年"
MANIFEST_FORMAT = "kinderflow-activity-archive/1"


@dataclass(frozen=True)
class MaterialRecord:
    category: MaterialCategory
    filename: str
    size: int
    sha256: str
    object_key: str
    uploader: str
    uploaded_at: datetime


@dataclass(frozen=True)
class ArchiveRecord:
    """What the bundle is made of, read from the database in one short transaction."""

    activity_id: str
    number: str
    seq: int
    year: int
    day: date
    topic: str
    alliance_code: str
    alliance_name: str
    semester_name: str  # 2026年秋季学期
    header: dict[str, str]  # the fields the sign-in sheet and the cover share
    headcount: dict[str, int]
    archived_on: date
    archived_by: str
    materials: tuple[MaterialRecord, ...]


@dataclass(frozen=True)
class FileCheck:
    path: str
    size: int
    present: bool
    authentic: bool
    usable: bool
    secure: bool
    problems: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedFile:
    path: str
    data: bytes
    label: str


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def archive_code(record: ArchiveRecord) -> str:
    """档号: 全宗(联盟)-门类·年度-保管期限-学期-件号, after DA/T 22; the semester as people name it."""
    return f"{record.alliance_code}-JY·{record.year}-D10-{record.semester_name}-{record.seq:03d}"


def cover(record: ArchiveRecord) -> bytes:
    """The cover (封面) with the bundle's table of contents."""
    counts = {c: sum(m.category == c for m in record.materials) for c in MaterialCategory}
    context: dict[str, Any] = {
        **record.header,
        "archive_code": archive_code(record),
        "expected": str(record.headcount["expected"]),
        "present": str(record.headcount["present"]),
        "leave": str(record.headcount["leave"]),
        "absent": str(record.headcount["absent"]),
        "materials_count": str(len(record.materials)),
        "retention": RETENTION,
        "archived_on": record.archived_on.isoformat(),
        "archived_by": record.archived_by,
        "categories": [
            {"folder": CATEGORY_FOLDERS[c], "label": CATEGORY_LABELS[c], "files": str(n), "status": "" if n else "缺"}
            for c, n in counts.items()
        ],
    }
    return render_docx(COVER_TEMPLATE, context)


def check_report(record: ArchiveRecord, checks: list[FileCheck]) -> bytes:
    """四性检测报告: authenticity, integrity, usability, security, overall and file by file."""
    missing = [CATEGORY_LABELS[c] for c in MaterialCategory if not any(m.category == c for m in record.materials)]
    lost = [c.path for c in checks if not c.present]
    authentic = all(c.authentic for c in checks)
    usable = all(c.usable for c in checks)
    secure = all(c.secure for c in checks)
    integrity = "不通过" if lost else ("通过（有缺项）" if missing else "通过")
    integrity_detail = (
        "；".join(
            x
            for x in (f"存储中缺失 {len(lost)} 件" if lost else "", f"缺少：{'、'.join(missing)}" if missing else "")
            if x
        )
        or f"七类材料齐全，{len(checks)} 件文件与清单一致"
    )
    properties = [
        ("真实性", "文件 SHA-256 与上传时登记值一致", authentic, f"{sum(c.authentic for c in checks)}/{len(checks)} 件一致"),
        ("可用性", "文件可正常打开（文档可解析、图片可解码、视频结构完整）", usable, f"{sum(c.usable for c in checks)}/{len(checks)} 件可用"),
        ("安全性", "无宏、无加密、无脚本、无异常压缩", secure, f"{sum(c.secure for c in checks)}/{len(checks)} 件安全"),
    ]  # fmt: skip
    rows = [{"label": label, "standard": standard, "result": "通过" if ok else "不通过", "detail": detail}
            for label, standard, ok, detail in properties]  # fmt: skip
    rows.insert(1, {"label": "完整性", "standard": "七类材料齐全，目录、清单与文件一一对应", "result": integrity,
                    "detail": integrity_detail})  # fmt: skip
    failed = [r["label"] for r in rows if r["result"] == "不通过"]
    context = {
        "number": record.number,
        "alliance_name": record.alliance_name,
        "topic": record.topic,
        "checked_on": record.archived_on.isoformat(),
        "properties": rows,
        "files": [
            {
                "no": str(n),
                "path": c.path,
                "size": _size_label(c.size),
                "authentic": _mark(c.authentic),
                "usable": _mark(c.usable),
                "secure": _mark(c.secure),
                "problems": "；".join(c.problems),
            }
            for n, c in enumerate(checks, start=1)
        ],
        "conclusion": f"未通过（{'、'.join(failed)}），请处理后重新归档" if failed else "四性检测通过",
    }
    return render_docx(REPORT_TEMPLATE, context)


def index_workbook(record: ArchiveRecord, rows: list[tuple[str, str, str, int, str, str, str]]) -> bytes:
    """归档文件目录 (.xlsx): one row per file with category, name, path, size, SHA-256, uploader and time."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "归档文件目录"
    sheet.append([f"{record.alliance_name} 教研活动档案 {record.number}「{record.topic}」"])
    sheet.append(["序号", "类别", "文件名", "路径", "大小（字节）", "SHA-256", "上传者", "上传时间"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.alignment = Alignment(horizontal="center")
    for n, (category, name, path, size, sha256, uploader, at) in enumerate(rows, start=1):
        sheet.append([n, category, name, path, size, sha256, uploader, at])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.freeze_panes = "A3"
    fit_column_widths(sheet)
    return save_workbook_deterministic(workbook)


def manifest(record: ArchiveRecord, files: list[dict[str, Any]]) -> bytes:
    """manifest.json: the SHA-256 and size of every other file in the bundle."""
    body = {
        "format": MANIFEST_FORMAT,
        "activity": {
            "number": record.number,
            "topic": record.topic,
            "alliance": record.alliance_name,
            "semester": record.semester_name,
            "date": record.day.isoformat(),
            "archived_on": record.archived_on.isoformat(),
        },
        "algorithm": "SHA-256",
        "files": files,
    }
    return (json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def local_time(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
