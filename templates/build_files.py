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
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from templates.build_activity_files import ACTIVITY_TEMPLATES
from templates.build_agreement import AGREEMENT_TEMPLATES
from templates.build_evaluation_files import EVALUATION_TEMPLATES
from templates.build_mentor_files import MENTOR_TEMPLATES
from templates.docx import TEMPLATE_DIR
from templates.rendering import rewrite_zip

BODY_FONT, HEADING_FONT, LATIN_FONT = "SimSun", "SimHei", "Times New Roman"
BODY_SIZE = Pt(10.5)  # 五号
LABEL_FILL = "F2F2F2"
TEXT_WIDTH = Cm(15.8)  # A4 21 cm less 2.6 cm margins either side
# Fonts the template names, for fontTable.xml: name, alternate name, panose, GB2312 charset.
FONT_TABLE = (
    ("SimSun", "宋体", "02010600030101010101"),
    ("SimHei", "黑体", "02010609060101010101"),
)
_UNUSED_RELATIONS = ("stylesWithEffects", "customXml", "thumbnail")


# --- document-wide settings ------------------------------------------------------------------------


def _fonts(element: etree._Element, east_asia: str = BODY_FONT) -> None:
    """rFonts with explicit faces (no theme fonts, which carry no Chinese face in python-docx's theme)."""
    r_fonts = element.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        element.insert(0, r_fonts)
    for attribute in list(r_fonts.attrib):
        del r_fonts.attrib[attribute]
    for side in ("w:ascii", "w:hAnsi", "w:cs"):
        r_fonts.set(qn(side), LATIN_FONT)
    r_fonts.set(qn("w:eastAsia"), east_asia)


def _setup_styles(document: DocumentObject) -> None:
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    r_pr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _fonts(r_pr)
    r_pr.find(qn("w:sz")).set(qn("w:val"), "21")
    r_pr.find(qn("w:szCs")).set(qn("w:val"), "21")
    lang = r_pr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "300")  # 1.25 lines: room for handwriting corrections
    normal = document.styles["Normal"]
    _fonts(normal.element.get_or_add_rPr())
    normal.font.size = BODY_SIZE
    settings = document.settings.element
    settings.find(qn("w:themeFontLang")).set(qn("w:eastAsia"), "zh-CN")


def _setup_font_table(document: DocumentObject) -> None:
    part = document.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alt_name, panose in FONT_TABLE:
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt_name})
        etree.SubElement(font, qn("w:panose1"), {qn("w:val"): panose})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})
        etree.SubElement(font, qn("w:family"), {qn("w:val"): "auto"})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _drop_unused_parts(document: DocumentObject) -> None:
    """python-docx's default template carries parts no form needs (a thumbnail, Word 2010 styles)."""
    for rels in (document.part.rels, document.part.package.rels):
        for r_id, rel in list(rels.items()):
            if rel.reltype.rsplit("/", 1)[-1] in _UNUSED_RELATIONS:
                del rels[r_id]


def _drop_unused_styles(document: DocumentObject) -> None:
    """Keep the styles the parts use, the defaults, and what they are based on: 350 KB less per file."""
    styles = document.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.iterfind(qn("w:style"))}
    wanted = {i for i, s in by_id.items() if s.get(qn("w:default")) == "1"}
    for part in [
        document.part,
        *(rel.target_part for rel in document.part.rels.values() if rel.reltype in (RT.HEADER, RT.FOOTER)),
    ]:
        root = part.element if hasattr(part, "element") else etree.fromstring(part.blob)
        for tag in ("w:pStyle", "w:rStyle", "w:tblStyle"):
            wanted.update(e.get(qn("w:val")) for e in root.iter(qn(tag)))
    todo = list(wanted)
    while todo:
        style = by_id.get(todo.pop())
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = None if style is None else style.find(qn(tag))
            if ref is not None and ref.get(qn("w:val")) not in wanted:
                wanted.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for style_id, style in by_id.items():
        if style_id not in wanted:
            styles.remove(style)


def _setup_page(document: DocumentObject) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    section.left_margin = section.right_margin = Cm(2.6)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(1.2)


def _properties(document: DocumentObject, title: str) -> None:
    props = document.core_properties
    props.title, props.subject, props.author = title, "青山湖区1+1+N幼教联盟", "Kinderflow"
    props.comments, props.last_modified_by, props.revision = "", "Kinderflow", 1


# --- building blocks --------------------------------------------------------------------------------


def _run(
    paragraph: Paragraph, text: str, *, bold: bool = False, size: Pt | None = None, east_asia: str = BODY_FONT
) -> None:
    run = paragraph.add_run(text)
    run.bold = bold or None
    if size is not None:
        run.font.size = size
    if east_asia != BODY_FONT:
        _fonts(run._r.get_or_add_rPr(), east_asia)


def _paragraph(
    document: DocumentObject,
    text: str,
    *,
    size: Pt = BODY_SIZE,
    east_asia: str = BODY_FONT,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: Pt = Pt(0),
    after: Pt = Pt(0),
) -> Paragraph:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_before, paragraph.paragraph_format.space_after = before, after
    paragraph.paragraph_format.keep_with_next = True
    _run(paragraph, text, size=size, east_asia=east_asia)
    return paragraph


def _heading(document: DocumentObject, text: str) -> None:
    _paragraph(document, text, size=Pt(12), east_asia=HEADING_FONT, before=Pt(9), after=Pt(4))


def _table(document: DocumentObject, widths_cm: Sequence[float]) -> Table:
    table = document.add_table(rows=0, cols=len(widths_cm))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    return table


def _row_property(row_element: etree._Element, tag: str) -> None:
    tr_pr = row_element.get_or_add_trPr()
    tr_pr.append(OxmlElement(tag))


def _fill(
    cell: _Cell, text: str, *, label: bool = False, align: WD_ALIGN_PARAGRAPH | None = None, size: Pt | None = None
) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if label else align
    if label:  # before vAlign: python-docx places vAlign after it, as the schema orders them
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), LABEL_FILL)
        cell._tc.get_or_add_tcPr().append(shading)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if text:
        _run(paragraph, text, bold=label, size=size)


def _row(
    table: Table, cells: Sequence[tuple[str, int, bool]], widths_cm: Sequence[float], height_cm: float = 0.8
) -> None:
    """A row of (text, columns spanned, is label) cells."""
    row = table.add_row()
    row.height, row.height_rule = Cm(height_cm), WD_ROW_HEIGHT_RULE.AT_LEAST
    _row_property(row._tr, "w:cantSplit")
    for cell, width in zip(row.cells, widths_cm, strict=True):
        cell.width = Cm(width)
    column = 0
    for text, span, label in cells:
        cell = row.cells[column]
        if span > 1:
            cell = cell.merge(row.cells[column + span - 1])
        _fill(cell, text, label=label)
        column += span


def _loop_table(
    document: DocumentObject, headers: Sequence[str], widths_cm: Sequence[float], loop: str, fields: Sequence[str]
) -> None:
    """A table with a header row, one row repeated per item of ``loop``, and a （无） row when empty."""
    table = _table(document, widths_cm)
    header = table.add_row()
    header.height, header.height_rule = Cm(0.7), WD_ROW_HEIGHT_RULE.AT_LEAST
    _row_property(header._tr, "w:tblHeader")
    for cell, text, width in zip(header.cells, headers, widths_cm, strict=True):
        cell.width = Cm(width)
        _fill(cell, text, label=True)
    item, collection = loop.split(" in ")
    for tag in (
        f"{{%tr for {loop} %}}",
        None,
        "{%tr endfor %}",
        f"{{%tr if not {collection} %}}",
        "（无）",
        "{%tr endif %}",
    ):
        row = table.add_row()
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
        if tag is None or tag == "（无）":
            row.height, row.height_rule = Cm(0.7), WD_ROW_HEIGHT_RULE.AT_LEAST
            _row_property(row._tr, "w:cantSplit")
        if tag is None:
            for cell, field in zip(row.cells, fields, strict=True):
                _fill(cell, f"{{{{ {item}.{field} }}}}", size=Pt(9) if field == "sha256_short" else None)
        elif tag == "（无）":
            _fill(row.cells[0].merge(row.cells[-1]), tag, align=WD_ALIGN_PARAGRAPH.CENTER)
        else:
            _fill(row.cells[0], tag)


def _field(paragraph: Paragraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "18")
    run.append(OxmlElement("w:rPr"))
    run[0].append(size)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


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
OPINIONS = ("申请园意见", "龙头园意见", "区教科体局成幼科审核意见")
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
    for opinion in OPINIONS:
        row = table.add_row()
        row.height, row.height_rule = Cm(3.6), WD_ROW_HEIGHT_RULE.AT_LEAST
        _row_property(row._tr, "w:cantSplit")
        label, body = row.cells
        label.width, body.width = Cm(3.5), Cm(12.3)
        _fill(label, opinion, label=True)
        body.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        for line in ("签字：________________　　盖章：", "日期：________年____月____日"):
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


TEMPLATES: dict[str, Callable[[], DocumentObject]] = {"application_form.docx": application_form, **ACTIVITY_TEMPLATES, **AGREEMENT_TEMPLATES, **EVALUATION_TEMPLATES, **MENTOR_TEMPLATES}


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
