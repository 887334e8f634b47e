"""The year's summary workbook (考核汇总表): one row per alliance, ranked, coloured by grade."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from templates.xlsx import fit_column_widths, save_workbook_deterministic
from workflows.access import Viewer
from workflows.errors import NotFound
from workflows.evaluations.machine import ASSESSOR_LABELS, EVALUATION_WORKFLOW
from workflows.evaluations.models import Evaluation
from workflows.evaluations.scoring import EXCELLENT, FAIL, GOOD, PASS
from workflows.evaluations.service import list_visible

# Fill colours by grade: green, blue, amber, red (light, so the numbers stay readable in print).
GRADE_FILLS = {EXCELLENT: "C6EFCE", GOOD: "DDEBF7", PASS: "FFEB9C", FAIL: "FFC7CE"}
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = "宋体"


def ranks(totals: list[float]) -> list[int]:
    """Competition ranking (1, 2, 2, 4): equal totals share a rank."""
    return [1 + sum(other > total for other in totals) for total in totals]


def _header(sheet: Worksheet, titles: list[str]) -> None:
    for column, title in enumerate(titles, start=1):
        cell = sheet.cell(row=1, column=column, value=title)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _scores_sheet(sheet: Worksheet, evaluations: list[Evaluation]) -> None:
    items = evaluations[0].items if evaluations else []
    titles = ["排名", "联盟代码", "联盟名称", "龙头园"]
    titles += [f"{i.label}（{i.max_points:g}）" for i in items]
    titles += ["总分", "等次", "否决项", "状态"]
    _header(sheet, titles)
    order = sorted(evaluations, key=lambda e: (-e.total, e.alliance.code))
    for row, (rank, evaluation) in enumerate(zip(ranks([e.total for e in order]), order, strict=True), start=2):
        lead = evaluation.alliance.lead
        values: list[object] = [rank, evaluation.alliance.code, evaluation.alliance.name, lead.name if lead else ""]
        for item in items:
            mine = evaluation.item(item.key)
            values.append(None if mine is None else mine.final)
        values += [evaluation.total, evaluation.grade, "是" if evaluation.vetoed else "",
                   EVALUATION_WORKFLOW.label(evaluation.state)]  # fmt: skip
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.font = Font(name=FONT)
            cell.border = BORDER
            if isinstance(value, float):
                cell.number_format = "0.0"
    last_column, last_row = get_column_letter(len(titles)), max(2, len(order) + 1)
    grade_column = get_column_letter(len(titles) - 2)
    for grade, colour in GRADE_FILLS.items():
        sheet.conditional_formatting.add(
            f"A2:{last_column}{last_row}",
            FormulaRule(formula=[f'${grade_column}2="{grade}"'], fill=PatternFill("solid", bgColor=colour)),
        )
    sheet.freeze_panes = "E2"  # header row and the alliance columns stay in view
    sheet.auto_filter.ref = f"A1:{last_column}{last_row}"
    fit_column_widths(sheet, max_width=40)
    sheet.row_dimensions[1].height = 45
    for column in range(5, 5 + len(items)):  # item headers wrap instead of widening the sheet
        sheet.column_dimensions[get_column_letter(column)].width = 12
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"


def _items_sheet(sheet: Worksheet, evaluations: list[Evaluation]) -> None:
    _header(sheet, ["序号", "类别", "考核项目", "满分", "评定", "评分办法"])
    for row, item in enumerate(evaluations[0].items if evaluations else [], start=2):
        values = [row - 1, item.section, item.label, item.max_points, ASSESSOR_LABELS[item.assessor], item.criteria]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.font = Font(name=FONT)
            cell.border = BORDER
            cell.alignment = Alignment(wrap_text=column == 6, vertical="top")
    sheet.freeze_panes = "A2"
    fit_column_widths(sheet, max_width=60)


def summary_workbook(*, session: Session, viewer: Viewer, year: int) -> bytes:
    """The year's summary workbook (the bureau only; other callers are told it does not exist)."""
    if not viewer.is_bureau:
        raise NotFound("考核汇总表不存在")
    evaluations = list_visible(session=session, viewer=viewer, year=year)
    if not evaluations:
        raise NotFound(f"{year} 年度考核尚未发起")
    workbook = Workbook()
    scores = workbook.active
    scores.title = f"{year}年度考核汇总"
    _scores_sheet(scores, evaluations)
    _items_sheet(workbook.create_sheet("考核项目"), evaluations)
    return save_workbook_deterministic(workbook)


def summary_filename(year: int) -> str:
    return f"{year}年度联盟考核汇总表.xlsx"
