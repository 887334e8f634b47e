"""The evaluation form and certificate templates, built with the building blocks of ``build_files``.

``templates.build_files`` lists these builders in its ``TEMPLATES`` and writes the files; this module
only describes them. It imports ``build_files`` inside each builder, so either module may be imported
first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from templates import docx_kit as b
from templates.district import REVIEWER

INFO_WIDTHS = (2.6, 5.3, 2.6, 5.3)
ITEM_WIDTHS = (1.0, 2.3, 1.1, 4.6, 1.4, 1.4, 1.1, 2.9)
ITEM_HEADERS = ("序号", "考核项目", "分值", "考核记录（系统依据记录计算）", "计算分", "自评分", "得分", "说明")
ITEM_FIELDS = ("no", "label", "max_points", "evidence", "computed", "self_score", "final", "remark")
SMALL = Pt(9)


def _info(document: DocumentObject, rows: Sequence[tuple[tuple[str, str], ...]]) -> None:
    table = b._table(document, INFO_WIDTHS)
    for pairs in rows:
        if len(pairs) == 1:
            ((label, value),) = pairs
            b._row(table, [(label, 1, True), (value, 3, False)], INFO_WIDTHS)
        else:
            cells = [(t, 1, is_label) for label, value in pairs for t, is_label in ((label, True), (value, False))]
            b._row(table, cells, INFO_WIDTHS)


def _items_table(document: DocumentObject) -> None:
    """One row per item in small type (the evidence runs to several lines), header repeated per page."""
    table = b._table(document, ITEM_WIDTHS)
    header = table.add_row()
    header.height, header.height_rule = Cm(0.9), WD_ROW_HEIGHT_RULE.AT_LEAST
    b._row_property(header._tr, "w:tblHeader")
    for cell, text, width in zip(header.cells, ITEM_HEADERS, ITEM_WIDTHS, strict=True):
        cell.width = Cm(width)
        b._fill(cell, text, label=True, size=SMALL)
    for tag in ("{%tr for i in items %}", None, "{%tr endfor %}"):
        row = table.add_row()
        for cell, width in zip(row.cells, ITEM_WIDTHS, strict=True):
            cell.width = Cm(width)
        if tag is not None:
            b._fill(row.cells[0], tag)
            continue
        row.height, row.height_rule = Cm(0.8), WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, name in zip(row.cells, ITEM_FIELDS, strict=True):
            align = None if name in ("evidence", "remark", "label") else WD_ALIGN_PARAGRAPH.CENTER
            b._fill(cell, f"{{{{ i.{name} }}}}", size=SMALL, align=align)


def _footer(document: DocumentObject, text: str) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    b._run(footer, text + "　第 ", size=SMALL)
    b._field(footer, "PAGE")
    b._run(footer, " 页 / 共 ", size=SMALL)
    b._field(footer, "NUMPAGES")
    b._run(footer, " 页", size=SMALL)


def evaluation_form() -> DocumentObject:
    """年度考核评价表 (附件4): items, maximum, evidence, self and final scores, grade, remarks, signatures."""
    document = b.start("青山湖区1+1+N幼教联盟年度考核评价表")
    b._paragraph(document, "青山湖区1+1+N幼教联盟 年度考核评价表", size=Pt(18), east_asia=b.HEADING_FONT,
                 align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(2))  # fmt: skip
    b._paragraph(document, "{{ status_note }}", align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(2))
    b._paragraph(document, "编号：{{ number }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(4))
    _info(
        document,
        [
            (("联盟", "{{ alliance_name }}（{{ alliance_code }}）"),),
            (("考核年度", "{{ year }} 年"), ("状态", "{{ state_label }}")),
            (("龙头园", "{{ lead_name }}"), ("支柱园", "{{ pillar_name }}")),
            (("园所数", "{{ members_count }} 所"), ("分值", "{{ full_marks }}")),
        ],
    )
    b._heading(document, "一、考核项目与得分")
    _items_table(document)
    _info(
        document,
        [
            (("总分", "{{ total }}"), ("等次", "{{ grade }}")),
            (("否决项", "{{ veto_note }}"), ("计算日期", "{{ computed_on }}")),
        ],
    )
    b._heading(document, "二、联盟自评意见（自评日期：{{ self_assessed_on }}）")
    b._paragraph(document, "{{ self_remarks }}", after=Pt(4))
    b._heading(document, "三、考核评价意见")
    b._paragraph(document, "{{ review_remarks }}", after=Pt(6))
    widths = (5.2, 5.3, 5.3)
    sign = b._table(document, widths)
    row = sign.add_row()
    row.height, row.height_rule = Cm(3.0), WD_ROW_HEIGHT_RULE.AT_LEAST
    b._row_property(row._tr, "w:cantSplit")
    texts = (
        "龙头园（盖章）\n业务园长签字：\n日期：",
        "区教研室\n评分人签字：\n日期：",
        f"{REVIEWER}（盖章）\n负责人签字：\n公布日期：{{{{ published_on }}}}",
    )
    for cell, text, width in zip(row.cells, texts, widths, strict=True):
        cell.width = Cm(width)
        b._fill(cell, text)
    _footer(document, "编号：{{ number }}")
    b._drop_unused_styles(document)
    return document


def certificate() -> DocumentObject:
    """公开课证书 / 讲座证书: one presenter, one activity; numbered, with its verification code."""
    document = b.start("青山湖区1+1+N幼教联盟证书")
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(3)
    section.left_margin = section.right_margin = Cm(3.5)
    b._paragraph(document, "{{ title }}", size=Pt(36), east_asia=b.HEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER,
                 before=Pt(12), after=Pt(6))  # fmt: skip
    b._paragraph(document, "证书编号：{{ number }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(18))
    b._paragraph(document, "{{ teacher_name }} 老师（{{ kindergarten_name }}）：", size=Pt(16), after=Pt(12))
    body = b._paragraph(
        document,
        "于 {{ held_on }} 在{{ alliance_name }}教研活动「{{ topic }}」中{{ role_phrase }}，特发此证，以资鼓励。",
        size=Pt(16),
        after=Pt(36),
    )
    body.paragraph_format.first_line_indent = Pt(32)
    body.paragraph_format.line_spacing = 1.5
    b._paragraph(document, "{{ issuer }}", size=Pt(14), align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(4))
    b._paragraph(document, "{{ issued_on }}", size=Pt(14), align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(30))
    b._paragraph(document, "核验码：{{ verification_code }}　　核验网址：{{ verify_url }}", size=SMALL,
                 align=WD_ALIGN_PARAGRAPH.CENTER)  # fmt: skip
    b._drop_unused_styles(document)
    return document


EVALUATION_TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "evaluation_form.docx": evaluation_form,
    "certificate.docx": certificate,
}
