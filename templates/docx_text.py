"""The text of a Word document as plain blocks, for reading on a page: paragraphs and tables in order.

    read_blocks(docx_bytes) -> [Block(kind="title", text=...), Block(kind="table", rows=...), ...]

The signing page shows the agreement from the very bytes the signatures cover (the frozen .docx),
so what a signer reads is what they sign; a browser on any phone can show it, where a PDF in a frame
often cannot. Headings are recognised by the heading font (黑体) the templates give them, page breaks
by the break itself; pictures (seals, the QR code) are left out, and values stay plain text for the
page to escape.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

from templates.docx_kit import HEADING_FONT

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TITLE_HALF_POINTS = 32  # 16 pt and larger in the heading font: the document's title lines
# A document we generated, read without entities or network: nothing in it can reach outside.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


@dataclass(frozen=True)
class Block:
    """One piece of the document: a title, heading or paragraph (its text and alignment), a table
    (rows of cell texts), or a page break."""

    kind: str
    text: str = ""
    align: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


def _paragraph_text(paragraph: etree._Element) -> str:
    parts = []
    for node in paragraph.iter(_w("t"), _w("tab"), _w("br"), _w("cr")):
        if node.tag == _w("t"):
            parts.append(node.text or "")
        elif node.tag == _w("tab"):
            parts.append(" ")
        elif node.get(_w("type")) != "page":
            parts.append("\n")
    return "".join(parts).strip()


def _kind(paragraph: etree._Element) -> str:
    for properties in paragraph.iter(_w("rPr")):
        fonts = properties.find(_w("rFonts"))
        if fonts is not None and fonts.get(_w("eastAsia")) == HEADING_FONT:
            size = properties.find(_w("sz"))
            big = size is not None and int(size.get(_w("val"), "0")) >= TITLE_HALF_POINTS
            return "title" if big else "heading"
    return "paragraph"


def _breaks_page(paragraph: etree._Element) -> bool:
    properties = paragraph.find(_w("pPr"))
    before = properties is not None and properties.find(_w("pageBreakBefore")) is not None
    return before or any(br.get(_w("type")) == "page" for br in paragraph.iter(_w("br")))


def _table(table: etree._Element) -> Block:
    rows = []
    for row in table.iterfind(_w("tr")):
        cells = tuple(
            "\n".join(t for p in cell.iterfind(_w("p")) if (t := _paragraph_text(p))) for cell in row.iterfind(_w("tc"))
        )
        if any(cells):
            rows.append(cells)
    return Block("table", rows=tuple(rows))


def read_blocks(content: bytes) -> list[Block]:
    """The body of a .docx, block by block (the footer and pictures are left out)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"), _PARSER)
    body = root.find(_w("body"))
    blocks: list[Block] = []
    for node in [] if body is None else body:
        if node.tag == _w("tbl"):
            table = _table(node)
            if table.rows:
                blocks.append(table)
        elif node.tag == _w("p"):
            if _breaks_page(node) and blocks:
                blocks.append(Block("page_break"))
            text = _paragraph_text(node)
            if text:
                jc = node.find(f"{_w('pPr')}/{_w('jc')}")
                blocks.append(Block(_kind(node), text=text, align="" if jc is None else jc.get(_w("val"), "")))
    return blocks
