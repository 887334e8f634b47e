"""The agreement (联盟协议书, 附件3) and certificate of completion (签署完成证明) templates.

``templates.build_files`` lists these builders in its ``TEMPLATES`` and writes the files; this module
describes them, importing ``build_files`` inside each builder so either module may be imported first.

The last page of the agreement is a signature page laid out to exact measures (a fixed-height title
line, then a table of exact row heights at the top of a fresh page), so the signed PDF can place each
party's visible signature in its row: ``signature_box`` gives that rectangle in PDF points.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence

from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Row

from templates import docx_kit as b
from templates.agreement_text import ARTICLES, CLOSING, LEAD_PILLAR_ARTICLES, LEAD_PILLAR_PREAMBLE, PREAMBLE

# Placeholder pictures (templates.pictures): transparent 1×1 PNGs, each different so each gets a part.
_PLACEHOLDERS = [
    base64.b64decode(f"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//{tail}Jggg==")
    for tail in (
        "8/AwAI/AL+p5qgoAAAAABJRU5ErkJggg==",
        "8fAwAI+gL99aO0NAAAAABJRU5ErkJggg==",
        "8vAwAI+AL8KUP1ngAAAABJRU5ErkJggg==",
        "8PAwAI9gL7cgR0qwAAAABJRU5ErkJggg==",
        "83AwAI9AL6nQt7ZgAAAABJRU5ErkJggg==",
    )
]
PARTY_ORDER = ("lead", "pillar", "member", "bureau")  # rows of the parties table and the signature page
# The lead–pillar agreement has no 丙方: its tables have no such row at all (not an empty one).
LEAD_PILLAR_ORDER = ("lead", "pillar", "bureau")
SEAL_PICTURES = {party: f"seal-{party}" for party in PARTY_ORDER}
QR_PICTURE = "agreement-qr"

# Signature page geometry (cm). Page and margins are docx_kit._setup_page's: A4, top 2.5, left 2.6.
PAGE_HEIGHT, TOP_MARGIN, LEFT_MARGIN = 29.7, 2.5, 2.6
TITLE_LINE = 1.2
HEADER_ROW = 0.8
PARTY_ROW = 3.8
SIGNATURE_WIDTHS = (2.0, 4.2, 2.0, 3.6, 4.0)  # 当事方 · 名称 · 负责人 · 印章 · 电子签名
SEAL_CM = 3.0
QR_CM = 2.6
_POINTS_PER_CM = 72 / 2.54


def signature_box(
    party: str, inset_cm: float = 0.15, parties: Sequence[str] = PARTY_ORDER
) -> tuple[float, float, float, float]:
    """The 电子签名 cell of ``party`` on the signature page of an agreement between ``parties``, in PDF
    points from the bottom left."""
    row = list(parties).index(party)
    left = LEFT_MARGIN + sum(SIGNATURE_WIDTHS[:-1])
    right = left + SIGNATURE_WIDTHS[-1]
    top = PAGE_HEIGHT - TOP_MARGIN - TITLE_LINE - HEADER_ROW - row * PARTY_ROW
    bottom = top - PARTY_ROW
    cm = (left + inset_cm, bottom + inset_cm, right - inset_cm, top - inset_cm)
    return (cm[0] * _POINTS_PER_CM, cm[1] * _POINTS_PER_CM, cm[2] * _POINTS_PER_CM, cm[3] * _POINTS_PER_CM)


def _body(document: DocumentObject, text: str, *, indent: bool = True) -> None:
    """A justified body paragraph (first line indented two characters); may carry line breaks."""
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.space_after = Pt(3)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(21)
    b._run(paragraph, text)


def _footer(document: DocumentObject, text: str) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    b._run(footer, text + "　第 ", size=Pt(9))
    b._field(footer, "PAGE")
    b._run(footer, " 页 / 共 ", size=Pt(9))
    b._field(footer, "NUMPAGES")
    b._run(footer, " 页", size=Pt(9))


def _picture(cell_or_paragraph: object, index: int, name: str, size_cm: float, description: str) -> None:
    paragraph = getattr(cell_or_paragraph, "paragraphs", [cell_or_paragraph])[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    shape = paragraph.add_run().add_picture(io.BytesIO(_PLACEHOLDERS[index]), width=Cm(size_cm), height=Cm(size_cm))
    shape._inline.docPr.set("name", name)
    shape._inline.docPr.set("descr", description)


def _exact_row(table: Table, height_cm: float) -> _Row:
    row: _Row = table.add_row()
    row.height, row.height_rule = Cm(height_cm), WD_ROW_HEIGHT_RULE.EXACTLY
    b._row_property(row._tr, "w:cantSplit")
    return row


def _signature_page(document: DocumentObject, parties: Sequence[str]) -> None:
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt = title.paragraph_format
    fmt.page_break_before, fmt.space_before, fmt.space_after = True, Pt(0), Pt(0)
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Cm(TITLE_LINE)
    b._run(title, "签　署　页", size=Pt(16), east_asia=b.HEADING_FONT)
    table = b._table(document, SIGNATURE_WIDTHS)
    header = _exact_row(table, HEADER_ROW)
    for cell, text, width in zip(
        header.cells, ("当事方", "单位名称", "负责人", "印章", "电子签名"), SIGNATURE_WIDTHS, strict=True
    ):
        cell.width = Cm(width)
        b._fill(cell, text, label=True)
    for party in parties:
        index = PARTY_ORDER.index(party)  # each placeholder picture keeps bytes of its own
        row = _exact_row(table, PARTY_ROW)
        cells = row.cells
        for cell, width in zip(cells, SIGNATURE_WIDTHS, strict=True):
            cell.width = Cm(width)
        b._fill(cells[0], f"{{{{ {party}_label }}}}", label=True)
        b._fill(cells[1], f"{{{{ {party}_name }}}}", align=WD_ALIGN_PARAGRAPH.CENTER)
        b._fill(cells[2], f"{{{{ {party}_head }}}}", align=WD_ALIGN_PARAGRAPH.CENTER)
        cells[3].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _picture(cells[3], index, SEAL_PICTURES[party], SEAL_CM, "印章")
        cells[4].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        note = cells[4].paragraphs[0]
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = note.add_run("（电子签名）")
        run.font.size, run.font.color.rgb = Pt(8), RGBColor(0x99, 0x99, 0x99)
    b._paragraph(
        document,
        "签署日期以各方电子签名所载时间为准。本页为《青山湖区1+1+N幼教联盟协议书》（编号 {{ number }}）签署页，无正文。",
        size=Pt(9),
        before=Pt(6),
        after=Pt(6),
    )
    verify = b._table(document, (3.4, 12.4))
    row = verify.add_row()
    qr_cell, text_cell = row.cells
    qr_cell.width, text_cell.width = Cm(3.4), Cm(12.4)
    _picture(qr_cell, 4, QR_PICTURE, QR_CM, "验证码")
    text_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for n, line in enumerate(("验证码：{{ verification_code }}", "核验网址：{{ verify_url }}", "{{ verify_note }}")):
        paragraph = text_cell.paragraphs[0] if n == 0 else text_cell.add_paragraph()
        b._run(paragraph, line, size=Pt(10 if n == 0 else 9), bold=n == 0)


def _agreement(
    subtitle: str, parties: Sequence[str], preamble: str, articles: Sequence[tuple[str, Sequence[str]]]
) -> DocumentObject:
    document = b.start("青山湖区1+1+N幼教联盟协议书")
    b.title(document, "青山湖区1+1+N幼教联盟协议书", size=20)
    b._paragraph(document, subtitle, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(2))
    b._paragraph(document, "协议编号：{{ number }}　　{{ status_line }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=Pt(6))
    widths = (2.8, 5.6, 2.2, 5.2)
    table = b._table(document, widths)
    b._row(table, [("当事方", 1, True), ("单位名称", 1, True), ("负责人", 1, True), ("地址", 1, True)], widths, 0.7)
    for party in parties:
        b._row(
            table,
            [(f"{{{{ {party}_label }}}}", 1, True)]
            + [(f"{{{{ {party}_{field} }}}}", 1, False) for field in ("name", "head", "address")],
            widths,
        )
    _body(document, preamble)
    for heading, paragraphs in articles:
        b._heading(document, heading)
        for text in paragraphs:
            _body(document, text)
    for text in CLOSING:
        _body(document, text)
    _signature_page(document, parties)
    _footer(document, "协议编号 {{ number }}　验证码 {{ verification_code }}")
    b._drop_unused_styles(document)
    return document


def agreement() -> DocumentObject:
    """联盟协议书: parties, fourteen articles, and the signature page with seals, signatures and a QR code."""
    return _agreement("{{ alliance_name }}", PARTY_ORDER, PREAMBLE, ARTICLES)


def lead_pillar_agreement() -> DocumentObject:
    """The agreement of an alliance's lead (甲方) and pillar (乙方), the bureau supervising: no 丙方 anywhere."""
    return _agreement(
        "{{ alliance_name }}　龙头园与支柱园合作协议", LEAD_PILLAR_ORDER, LEAD_PILLAR_PREAMBLE, LEAD_PILLAR_ARTICLES
    )


def _small_loop_table(
    document: DocumentObject, headers: Sequence[str], widths_cm: Sequence[float], loop: str, fields: Sequence[str]
) -> None:
    """docx_kit._loop_table, in 8 pt: hashes and certificate fingerprints are long."""
    table = b._table(document, widths_cm)
    header = table.add_row()
    b._row_property(header._tr, "w:tblHeader")
    for cell, text, width in zip(header.cells, headers, widths_cm, strict=True):
        cell.width = Cm(width)
        b._fill(cell, text, label=True, size=Pt(9))
    item = loop.split(" in ")[0]
    for tag in (f"{{%tr for {loop} %}}", None, "{%tr endfor %}"):
        row = table.add_row()
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
        if tag is None:
            b._row_property(row._tr, "w:cantSplit")
            for cell, field in zip(row.cells, fields, strict=True):
                b._fill(cell, f"{{{{ {item}.{field} }}}}", size=Pt(8))
        else:
            b._fill(row.cells[0], tag)


def completion_certificate() -> DocumentObject:
    """签署完成证明: who signed what, when, from where, with which certificate; every hash; the history."""
    document = b.start("联盟协议书签署完成证明")
    b.title(document, "签署完成证明", size=20)
    b._paragraph(document, "（联盟协议书电子签署）", align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(6))
    widths = (3.2, 12.6)
    table = b._table(document, widths)
    for label, value in (
        ("协议名称", "{{ title }}"),
        ("协议编号", "{{ number }}"),
        ("联盟", "{{ alliance_name }}"),
        ("验证码", "{{ verification_code }}（{{ verify_url }}）"),
        ("签署轮次", "第 {{ round }} 轮（此前各轮签名已作废）"),
        ("发出签署时间", "{{ sent_at }}"),
        ("生效时间", "{{ effective_at }}"),
        ("协议期限", "{{ term }}"),
    ):
        b._row(table, [(label, 1, True), (value, 1, False)], widths)
    b._heading(document, "一、当事方与签署人")
    _small_loop_table(
        document,
        ("顺序", "当事方", "单位名称", "签署人（账号）", "签署时间", "IP 地址"),
        (1.1, 2.2, 4.4, 3.1, 3.0, 2.0),
        "s in signatures",
        ("step", "party", "party_name", "signer", "signed_at", "address"),
    )
    b._heading(document, "二、签名证书")
    _small_loop_table(
        document,
        ("当事方", "证书主体", "序列号", "证书指纹（SHA-256）", "有效期至"),
        (1.8, 4.0, 2.8, 5.2, 2.0),
        "s in signatures",
        ("party", "subject", "serial", "fingerprint", "not_after"),
    )
    b._paragraph(
        document, "颁发者：{{ issuer }}；根证书指纹（SHA-256）：{{ ca_fingerprint }}", size=Pt(8), before=Pt(3)
    )
    b._heading(document, "三、文件及其 SHA-256")
    _small_loop_table(
        document, ("文件", "生成时间", "SHA-256"), (6.0, 3.0, 6.8), "f in files", ("label", "created_at", "sha256")
    )
    b._heading(document, "四、操作记录（审计链）")
    _small_loop_table(
        document,
        ("序号", "时间", "操作人", "操作", "状态变化", "说明"),
        (1.2, 3.0, 3.0, 2.2, 3.2, 3.2),
        "e in timeline",
        ("seq", "at", "actor", "event", "change", "comment"),
    )
    _body(document, "{{ statement }}", indent=False)
    b._paragraph(document, "生成时间：{{ generated_at }}", align=WD_ALIGN_PARAGRAPH.RIGHT, before=Pt(6))
    _footer(document, "签署完成证明　协议编号 {{ number }}")
    b._drop_unused_styles(document)
    return document


AGREEMENT_TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "agreement.docx": agreement,
    "agreement_lead_pillar.docx": lead_pillar_agreement,
    "completion_certificate.docx": completion_certificate,
}
