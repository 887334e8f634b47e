"""Build the .docx templates in ``templates/files`` from code: ``python -m templates.build_files``.

The office may later edit a built file in Word; until then this script is its source. Every run
writes the same bytes (python-docx output, rewritten as a deterministic zip), so a changed file in a
commit means a changed template. ``--check`` exits 1 when a committed file differs from the script.

Fonts: body text 宋体 (SimSun) 10.5 pt (五号), headings 黑体 (SimHei), set as East Asian fonts on the
document defaults and on Normal. Linux has neither; LibreOffice then falls back through fontconfig
to Noto Serif/Sans CJK SC, which ``scripts/ensure-system-deps.sh`` installs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from collections.abc import Callable, Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table

from templates.build_activity_files import ACTIVITY_TEMPLATES
from templates.build_agreement import AGREEMENT_TEMPLATES
from templates.build_decision_files import DECISION_TEMPLATES
from templates.build_evaluation_files import EVALUATION_TEMPLATES
from templates.build_mentor_files import MENTOR_TEMPLATES
from templates.district import REVIEWER
from templates.docx import TEMPLATE_DIR
from templates.docx_kit import (
    HEADING_FONT,
    _drop_unused_parts,
    _drop_unused_styles,
    _field,
    _fill,
    _heading,
    _loop_table,
    _paragraph,
    _properties,
    _row,
    _row_property,
    _run,
    _setup_font_table,
    _setup_page,
    _setup_styles,
    _table,
)
from templates.rendering import rewrite_zip

# --- the application form ---------------------------------------------------------------------------

FIELD_ROWS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("园所名称", "name"),),
    (("统一社会信用代码", "credit_code"), ("办园许可证编号", "licence_no")),
    (("发证日期", "licence_issued_on"), ("举办者", "sponsor")),
    (("法定代表人", "legal_representative"), ("所属乡镇/街道", "town")),
    (("园长", "head_name"), ("电话", "head_phone")),
    (("联络人", "contact_name"), ("电话", "contact_phone")),
    (("地址", "address"),),
    (("办园性质", "ownership_label"), ("是否普惠", "inclusive_label")),
    (("班级数", "classes"), ("在园幼儿数", "children")),
    (("教职工数", "staff"), ("专任教师数", "teachers")),
    (("持证教师数", "certified_teachers"), ("持证率", "certification_rate")),
    (("占地面积（㎡）", "site_area_m2"), ("建筑面积（㎡）", "building_area_m2")),
)
# Two blocks, one per step that has someone to fill it: the applicant on submitting, the bureau's
# section on deciding (the form is rendered again then, with the decision written in). The lead
# has no step in the application's workflow, so it has no block to leave empty.
OPINIONS = (
    ("申请园意见", ("本园自愿申请加入青山湖区1+1+N幼教联盟，所填内容真实，承诺履行联盟义务。",),
     ("申请园（盖章）：　　　　负责人签字：", "提交日期：{{ submitted_on }}")),
    (f"{REVIEWER}审核意见", ("{{ review_opinion }}", "{{ decision_line }}"),
     ("审核部门：{{ reviewer }}（盖章）", "日期：{{ decided_on }}")),
)  # fmt: skip
MAIN_WIDTHS = (3.5, 4.4, 3.5, 4.4)  # labels up to 8 characters of bold 五号 on one line


def _value_rows(table: Table, rows: Sequence[tuple[str, str, float]]) -> None:
    for label, value, height in rows:
        _row(table, [(label, 1, True), (value, 3, False)], MAIN_WIDTHS, height)


def application_form() -> DocumentObject:
    """加入申请表: the form an applicant submits, printed for the three signatures."""
    document = Document()
    _drop_unused_parts(document)
    _setup_styles(document)
    _setup_font_table(document)
    _setup_page(document)
    _properties(document, "青山湖区1+1+N幼教联盟加入申请表")

    _paragraph(
        document,
        "青山湖区1+1+N幼教联盟 加入申请表",
        size=Pt(18),
        east_asia=HEADING_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        after=Pt(6),
    )
    _paragraph(document, "申请编号：{{ application_no }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(4))

    _heading(document, "一、园所基本情况")
    table = _table(document, MAIN_WIDTHS)
    for fields in FIELD_ROWS:
        if len(fields) == 1:
            ((label, name),) = fields
            _value_rows(table, [(label, f"{{{{ {name} }}}}", 0.8)])
        else:
            _row(
                table,
                [
                    (text, 1, is_label)
                    for label, name in fields
                    for text, is_label in ((label, True), (f"{{{{ {name} }}}}", False))
                ],
                MAIN_WIDTHS,
            )
    _value_rows(
        table,
        [
            ("最近年检", "{{ last_inspection_year }} 年度　{{ last_inspection_result }}", 0.8),
            ("近三年行政处罚", "{{ penalties_last_3_years }}", 0.8),
            ("近三年安全事故", "{{ safety_incidents_last_3_years }}", 0.8),
        ],
    )

    _heading(document, "二、申请事项")
    table = _table(document, MAIN_WIDTHS)
    _value_rows(
        table,
        [
            ("申请加入联盟", "{{ preferred_alliance_name }}", 0.8),
            ("申请理由", "{{ reasons }}", 3.0),
            ("需求诊断", "{{ needs_label }}", 0.8),
            ("承诺事项", "{{ commitments }}", 1.6),
        ],
    )

    _heading(document, "三、附件清单")
    _loop_table(
        document,
        ("材料类别", "文件名", "大小", "SHA-256（前16位）"),
        (3.4, 6.4, 2.0, 4.0),
        "a in attachments",
        ("kind_label", "filename", "size_label", "sha256_short"),
    )

    _heading(document, "四、资格初审（系统依据申请细则自动核对，供审核参考）")
    _loop_table(
        document, ("审核项目", "结果", "说明"), (5.0, 2.2, 8.6), "c in eligibility", ("label", "result", "detail")
    )

    _heading(document, "五、审核意见")
    table = _table(document, (3.5, 12.3))
    for opinion, statements, signature in OPINIONS:
        row = table.add_row()
        row.height, row.height_rule = Cm(3.6), WD_ROW_HEIGHT_RULE.AT_LEAST
        _row_property(row._tr, "w:cantSplit")
        label, body = row.cells
        label.width, body.width = Cm(3.5), Cm(12.3)
        _fill(label, opinion, label=True)
        body.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        for text in statements:
            paragraph = body.add_paragraph()
            paragraph.paragraph_format.space_after = Pt(4)
            _run(paragraph, text)
        for line in signature:
            paragraph = body.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.space_after = Pt(4)
            _run(paragraph, line)

    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(
        footer,
        "申请编号：{{ application_no }}　版本：第 {{ version_no }} 版　生成日期：{{ generated_on }}　第 ",
        size=Pt(9),
    )
    _field(footer, "PAGE")
    _run(footer, " 页 / 共 ", size=Pt(9))
    _field(footer, "NUMPAGES")
    _run(footer, " 页", size=Pt(9))
    _drop_unused_styles(document)
    return document


TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "application_form.docx": application_form,
    **ACTIVITY_TEMPLATES,
    **AGREEMENT_TEMPLATES,
    **EVALUATION_TEMPLATES,
    **MENTOR_TEMPLATES,
    **DECISION_TEMPLATES,
}


def build(name: str) -> bytes:
    """The bytes of one template, the same on every run."""
    buffer = io.BytesIO()
    TEMPLATES[name]().save(buffer)
    return rewrite_zip(buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the .docx templates in templates/files.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name in TEMPLATES:
        content, target = build(name), TEMPLATE_DIR / name
        digest = hashlib.sha256(content).hexdigest()[:16]
        if args.check:
            if not target.exists() or target.read_bytes() != content:
                stale.append(name)
            print(f"{name}: {'过期 out of date' if name in stale else '最新 up to date'} ({digest})")
        else:
            target.write_bytes(content)
            print(f"{name}: {len(content)} bytes, sha256 {digest}…")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
