"""The text of an uploaded Word document, paragraph by paragraph, for indexing and for news pages.

Only .docx is read. A PDF's text is not extracted: Chinese PDFs need their fonts' ToUnicode maps
to be read correctly, which no small pure-Python extractor does reliably, and ``pdftotext`` is not
installed in production. A PDF item is found by its title and tags only.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from storage.objects import ObjectStore

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_DOCX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Block:
    """One paragraph: its text and whether its style makes it a heading (标题)."""

    text: str
    heading: bool = False


def _is_heading(paragraph: Paragraph) -> bool:
    try:
        name = (paragraph.style.name if paragraph.style is not None else "") or ""
    except (KeyError, ValueError):
        return False
    return name.lower().startswith(("heading", "title")) or name.startswith(("标题", "题目"))


def docx_blocks(content: bytes) -> list[Block]:
    """The non-empty paragraphs of a .docx in reading order, table cells included."""
    try:
        document = Document(io.BytesIO(content))
    except (zipfile.BadZipFile, KeyError, ValueError):
        return []
    blocks: list[Block] = []
    for element in document.element.body.iter(qn("w:p")):
        text = "".join(t.text or "" for t in element.iter(qn("w:t"))).strip()
        if not text:
            continue
        in_table = next(element.iterancestors(qn("w:tc")), None) is not None
        heading = not in_table and _is_heading(Paragraph(element, document._body))
        blocks.append(Block(text=text, heading=heading))
    return blocks


def material_text(objects: ObjectStore, *, key: str, content_type: str, size: int) -> str | None:
    """The plain text of a stored .docx (None for other types or oversized files)."""
    if content_type != DOCX or size > MAX_DOCX_BYTES:
        return None
    with objects.open(key) as stream:
        content = stream.read(MAX_DOCX_BYTES + 1)
    return "\n".join(b.text for b in docx_blocks(content))
