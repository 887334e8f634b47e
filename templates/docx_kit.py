"""The toolkit the template builders share: page, styles, fonts, paragraphs and tables in python-docx,
set up the same way in every template so they print alike."""

from __future__ import annotations

from collections.abc import Sequence

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
    table: Table = document.add_table(rows=0, cols=len(widths_cm))
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


def start(title: str) -> DocumentObject:
    """A new A4 document with the shared styles, fonts and properties, and nothing in it."""
    document = Document()
    _drop_unused_parts(document)
    _setup_styles(document)
    _setup_font_table(document)
    _setup_page(document)
    _properties(document, title)
    return document


def title(document: DocumentObject, text: str, size: float = 18) -> None:
    """The centred heading line of a document."""
    _paragraph(document, text, size=Pt(size), east_asia=HEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(6))
