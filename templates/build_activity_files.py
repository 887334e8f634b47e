"""The activity and semester-work templates, built with the building blocks of ``build_files``.

``templates.build_files`` lists these builders in its ``TEMPLATES`` and writes the files; this module
only describes them. It imports ``build_files`` inside each builder, so either module may be imported
first.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from docx.document import Document as DocumentObject
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from templates import docx_kit as b

QR_PICTURE = "activity-qr"
# A 1×1 white PNG; the rendered sheet gets the activity's QR code in its place (templates.pictures).
_PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
INFO_WIDTHS = (2.6, 5.3, 2.6, 5.3)


def _info(document: DocumentObject, rows: list[tuple[tuple[str, str], ...]]) -> None:
    """Label/value rows: one pair spans the width, two pairs share it."""
    table = b._table(document, INFO_WIDTHS)
    for pairs in rows:
        if len(pairs) == 1:
            ((label, value),) = pairs
            b._row(table, [(label, 1, True), (value, 3, False)], INFO_WIDTHS)
        else:
            b._row(
                table,
                [(t, 1, is_label) for label, value in pairs for t, is_label in ((label, True), (value, False))],
                INFO_WIDTHS,
            )


def _footer(document: DocumentObject, text: str) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    b._run(footer, text + "　第 ", size=Pt(9))
    b._field(footer, "PAGE")
    b._run(footer, " 页 / 共 ", size=Pt(9))
    b._field(footer, "NUMPAGES")
    b._run(footer, " 页", size=Pt(9))


def _finish(document: DocumentObject) -> DocumentObject:
    b._drop_unused_styles(document)
    return document


ACTIVITY_ROWS: list[tuple[tuple[str, str], ...]] = [
    (("活动编号", "{{ number }}"), ("学期", "{{ semester_name }}")),
    (("联盟", "{{ alliance_name }}"),),
    (("活动主题", "{{ topic }}"),),
    (("领域", "{{ domain }}"), ("形式", "{{ format }}")),
    (("日期时段", "{{ when }}"),),
    (("地点", "{{ place }}"), ("承办园", "{{ host_name }}")),
    (("主持人", "{{ chair }}"), ("主讲/执教", "{{ presenters }}")),
]


def sign_in_sheet() -> DocumentObject:
    """签到表: the activity's header, one row per expected participant, totals and signatures, a QR code."""
    document = b.start("青山湖区1+1+N幼教联盟教研活动签到表")
    b.title(document, "青山湖区1+1+N幼教联盟 教研活动签到表")
    qr = document.add_paragraph()
    qr.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    shape = qr.add_run().add_picture(io.BytesIO(_PLACEHOLDER_PNG), width=Cm(2.4), height=Cm(2.4))
    shape._inline.docPr.set("name", QR_PICTURE)
    shape._inline.docPr.set("descr", "扫码签到")
    b._paragraph(document, "手机扫码签到：{{ sign_in_url }}", size=Pt(9), align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(0))
    b._paragraph(
        document, "活动码：{{ number }}　扫码签到为辅助记录，本签到表经签名后为存档原件",
        size=Pt(9), align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(4),
    )  # fmt: skip
    _info(document, ACTIVITY_ROWS)
    b._heading(document, "参加人员签到")
    b._loop_table(
        document,
        ("序号", "姓名", "所在园所", "园所角色", "岗位", "签名", "签到时间", "备注"),
        (1.0, 1.9, 3.7, 1.4, 1.8, 2.4, 2.0, 1.6),
        "p in participants",
        ("no", "name", "kindergarten", "role", "post", "signature", "signed_at", "note"),
    )
    b._paragraph(
        document,
        "应到 {{ expected }} 人　实到 {{ present }} 人（其中迟到 {{ late }} 人）　请假 {{ leave }} 人　缺席 {{ absent }} 人",
        before=Pt(6),
        after=Pt(6),
    )
    b._paragraph(
        document, "记录人：________________　　负责人签字（盖章）：________________", before=Pt(12), after=Pt(6)
    )
    b._paragraph(document, "日期：________年____月____日", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(6))
    b._paragraph(
        document, "说明：本人亲笔签名，禁止代签；请假、迟到请在备注栏注明。扫描活动码可核对活动信息。", size=Pt(9)
    )
    _footer(document, "活动编号：{{ number }}")
    return _finish(document)


def activity_cover() -> DocumentObject:
    """活动档案封面: what the bundle holds, for the archive room's shelf."""
    document = b.start("教研活动档案封面")
    b.title(document, "青山湖区1+1+N幼教联盟", size=16)
    b.title(document, "教研活动档案", size=26)
    b._paragraph(document, "档号：{{ archive_code }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(6))
    _info(
        document,
        ACTIVITY_ROWS
        + [
            (("应到人数", "{{ expected }}"), ("实到人数", "{{ present }}")),
            (("请假人数", "{{ leave }}"), ("缺席人数", "{{ absent }}")),
            (("材料件数", "{{ materials_count }}"), ("保管期限", "{{ retention }}")),
            (("归档日期", "{{ archived_on }}"), ("整理人", "{{ archived_by }}")),
        ],
    )
    b._heading(document, "归档文件目录")
    b._loop_table(
        document, ("目录", "材料类别", "件数", "说明"), (4.0, 3.6, 2.0, 6.2), "c in categories",
        ("folder", "label", "files", "status"),
    )  # fmt: skip
    _footer(document, "档号：{{ archive_code }}")
    return _finish(document)


def archive_check_report() -> DocumentObject:
    """四性检测报告: authenticity, integrity, usability and security of every archived file."""
    document = b.start("电子档案四性检测报告")
    b.title(document, "电子档案四性检测报告")
    _info(
        document,
        [
            (("活动编号", "{{ number }}"), ("检测日期", "{{ checked_on }}")),
            (("联盟", "{{ alliance_name }}"),),
            (("活动主题", "{{ topic }}"),),
        ],
    )
    b._heading(document, "一、检测结果")
    b._loop_table(
        document, ("检测项目", "检测内容", "结果", "说明"), (2.4, 6.0, 1.8, 5.6), "p in properties",
        ("label", "standard", "result", "detail"),
    )  # fmt: skip
    b._heading(document, "二、逐件检测")
    b._loop_table(
        document,
        ("序号", "文件", "大小", "真实性", "可用性", "安全性", "问题"),
        (1.0, 5.4, 1.8, 1.4, 1.4, 1.4, 3.4),
        "f in files",
        ("no", "path", "size", "authentic", "usable", "secure", "problems"),
    )
    b._paragraph(document, "检测结论：{{ conclusion }}", before=Pt(9), after=Pt(6))
    b._paragraph(document, "检测人：________________　　审核人：________________", before=Pt(12))
    _footer(document, "活动编号：{{ number }}")
    return _finish(document)


def semester_work() -> DocumentObject:
    """联盟互动计划 / 教研经验小结: the sections of the form, and the schedule when there is one."""
    document = b.start("青山湖区1+1+N幼教联盟学期工作")
    b.title(document, "{{ alliance_name }}", size=16)
    b.title(document, "{{ semester_name }}{{ title }}", size=20)
    b._paragraph(
        document, "龙头园：{{ lead_name }}　　填报人：{{ author }}　　日期：{{ submitted_on }}",
        align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(9),
    )  # fmt: skip
    b._paragraph(document, "{%p for s in sections %}")
    b._heading(document, "{{ s.heading }}")
    body = b._paragraph(document, "{{ s.body }}", after=Pt(6))
    body.paragraph_format.first_line_indent = Pt(21)
    body.paragraph_format.keep_with_next = False
    b._paragraph(document, "{%p endfor %}")
    b._paragraph(document, "{%p if schedule %}")
    b._heading(document, "活动安排")
    b._loop_table(
        document, ("时间", "主题", "形式", "领域", "承办园"), (2.6, 5.8, 2.2, 1.8, 3.4), "r in schedule",
        ("when", "topic", "format", "domain", "host"),
    )  # fmt: skip
    b._paragraph(document, "{%p endif %}")
    sign = b._table(document, (7.9, 7.9))
    row = sign.add_row()
    row.height, row.height_rule = Cm(2.0), WD_ROW_HEIGHT_RULE.AT_LEAST
    for cell, text in zip(row.cells, ("龙头园（盖章）：", "业务园长签字："), strict=True):
        cell.width = Cm(7.9)
        b._fill(cell, text)
    _footer(document, "{{ alliance_name }}　{{ semester_name }}{{ title }}")
    return _finish(document)


ACTIVITY_TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "sign_in_sheet.docx": sign_in_sheet,
    "activity_cover.docx": activity_cover,
    "archive_check_report.docx": archive_check_report,
    "semester_work.docx": semester_work,
}
