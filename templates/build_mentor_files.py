"""The mentor-team and resource-library templates, built with the building blocks of ``build_files``.

幼教导师团推荐表 (nomination form), 导师聘书 (appointment letter) and 推荐发表函 (recommendation
letter). ``templates.build_files`` lists these builders in its ``TEMPLATES`` and writes the files;
this module imports ``build_files`` inside each builder, so either module may be imported first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table

from templates import docx_kit as b
from templates.district import REVIEWER

WIDTHS = (3.2, 4.7, 3.2, 4.7)
INDENT = Pt(21)  # two characters of 五号


def _start(title: str, heading: str) -> DocumentObject:
    document = b.start(title)
    b.title(document, heading)
    return document


def _finish(document: DocumentObject, footer_text: str) -> DocumentObject:
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    b._run(footer, footer_text, size=Pt(9))
    b._drop_unused_styles(document)
    return document


def _pairs(table: Table, rows: Sequence[tuple[tuple[str, str], ...]]) -> None:
    """Label/value rows: one pair spans the width, two pairs share it."""
    for pairs in rows:
        if len(pairs) == 1:
            ((label, value),) = pairs
            b._row(table, [(label, 1, True), (value, 3, False)], WIDTHS)
        else:
            b._row(
                table,
                [(t, 1, is_label) for label, value in pairs for t, is_label in ((label, True), (value, False))],
                WIDTHS,
            )


def _opinions(document: DocumentObject, labels: Sequence[str]) -> None:
    table = b._table(document, (3.2, 12.6))
    for label_text in labels:
        row = table.add_row()
        row.height, row.height_rule = Cm(3.2), WD_ROW_HEIGHT_RULE.AT_LEAST
        b._row_property(row._tr, "w:cantSplit")
        label, body = row.cells
        label.width, body.width = Cm(3.2), Cm(12.6)
        b._fill(label, label_text, label=True)
        body.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        for line in ("签字：________________　　盖章：", "日期：________年____月____日"):
            paragraph = body.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.space_after = Pt(4)
            b._run(paragraph, line)


def mentor_nomination() -> DocumentObject:
    """幼教导师团推荐表: a kindergarten nominates one of its teachers for a team."""
    document = _start("青山湖区幼教导师团推荐表", "青山湖区幼教导师团推荐表")
    b._paragraph(document, "推荐编号：{{ number }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(4))
    b._heading(document, "一、被推荐人基本情况")
    table = b._table(document, WIDTHS)
    _pairs(
        table,
        [
            (("推荐导师团", "{{ team_label }}"),),
            (("姓名", "{{ teacher_name }}"), ("所在园", "{{ kindergarten_name }}")),
            (("岗位", "{{ post }}"), ("教师层次", "{{ level_label }}")),
            (("职称", "{{ professional_title }}"), ("教龄（年）", "{{ teaching_years }}")),
            (("联系电话", "{{ phone }}"), ("推荐类别", "{{ qualifications_label }}")),
        ],
    )
    b._heading(document, "二、业绩与推荐理由")
    table = b._table(document, WIDTHS)
    for label, value, height in (
        ("参与课题", "{{ research_topics }}", 1.6),
        ("主要业绩", "{{ achievements }}", 4.0),
        ("推荐理由", "{{ reasons }}", 3.0),
    ):
        b._row(table, [(label, 1, True), (value, 3, False)], WIDTHS, height)
    b._heading(document, "三、审核意见")
    _opinions(document, ("推荐园意见", f"{REVIEWER}审核意见"))
    return _finish(document, "推荐编号：{{ number }}　生成日期：{{ generated_on }}")


def _body(document: DocumentObject, lines: Sequence[str], *, indent: bool = True) -> None:
    for line in lines:
        paragraph = b._paragraph(document, line, size=Pt(14), after=Pt(6))
        paragraph.paragraph_format.keep_with_next = False
        paragraph.paragraph_format.line_spacing = 1.5
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(28)


def _signature(document: DocumentObject) -> None:
    for line, before in (("{{ issuer }}", Pt(36)), ("{{ issued_on }}", Pt(4))):
        b._paragraph(document, line, size=Pt(14), align=WD_ALIGN_PARAGRAPH.RIGHT, before=before)


def mentor_appointment() -> DocumentObject:
    """导师聘书: the appointment of a mentor for a term."""
    document = _start("青山湖区幼教导师聘书", "聘　书")
    b._paragraph(document, "{{ letter_no }}", align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(18))
    _body(document, ["{{ kindergarten_name }}　{{ teacher_name }}　老师："], indent=False)
    _body(
        document,
        [
            f"经园所推荐、{REVIEWER}审核，兹聘请您为青山湖区幼教联盟{{{{ team_label }}}}导师，"
            "聘期自{{ term_start }}至{{ term_end }}。",
            "聘期内，请依照幼教联盟的工作要求，承担对乡镇园、民办园的指导任务，参与制定联盟教研计划，"
            "举行讲座、送教、指导研讨，充分发挥示范、引领、辐射作用。",
            "指导联盟：{{ alliances_label }}",
        ],
    )
    _signature(document)
    return _finish(document, "{{ letter_no }}")


def publication_recommendation() -> DocumentObject:
    """推荐发表函: the teaching-research office recommends a library item to a journal."""
    document = _start("推荐发表函", "推荐发表函")
    b._paragraph(document, "编号：{{ letter_no }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(12))
    _body(document, ["{{ journal }}编辑部："], indent=False)
    _body(
        document,
        [
            "青山湖区1+1+N幼教联盟在教研活动中积累了一批课例与教学反思。经联盟推荐、区教研室审阅，"
            "现将{{ alliance_name }}的{{ category_label }}《{{ title }}》推荐给贵刊，恳请审阅并择优发表。",
        ],
    )
    table = b._table(document, WIDTHS)
    _pairs(
        table,
        [
            (("题目", "{{ title }}"),),
            (("类别", "{{ category_label }}"), ("领域", "{{ domain }}")),
            (("年龄段", "{{ age_group }}"), ("所属联盟", "{{ alliance_name }}")),
            (("承办园", "{{ kindergarten_name }}"), ("活动日期", "{{ activity_date }}")),
            (("所属活动", "{{ activity_topic }}"),),
            (("文件指纹", "SHA-256 {{ sha256_short }}…"),),
        ],
    )
    b._row(table, [("推荐理由", 1, True), ("{{ reason }}", 3, False)], WIDTHS, 3.0)
    b._row(table, [("推荐人", 1, True), ("{{ recommender_name }}", 3, False)], WIDTHS)
    _signature(document)
    return _finish(document, "{{ letter_no }}　{{ issuer }}")


MENTOR_TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "mentor_nomination.docx": mentor_nomination,
    "mentor_appointment.docx": mentor_appointment,
    "publication_recommendation.docx": publication_recommendation,
}
