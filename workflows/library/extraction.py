"""The text of an uploaded Word document, paragraph by paragraph, for indexing and for news pages.

Only .docx is read. A PDF's text is not extracted: Chinese PDFs need their fonts' ToUnicode maps
to be read correctly, which no small pure-Python extractor does reliably, and ``pdftotext`` is not
installed in production. A PDF item is found by its title and tags only.

The document is someone's upload, so it is never read inside a request: the library's and the
news's tasks (``workflows.library.text_tasks``) read it in a bounded child process
(``workflows.sandbox``), and the reading itself streams ``word/document.xml`` through
``workflows.untrusted`` (elements counted, nothing kept but the paragraph being read), looking each
paragraph's style up in a table built once from ``word/styles.xml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from storage.objects import ObjectStore
from workflows.sandbox import Bounds, run_bounded
from workflows.untrusted import Limits, UnsafeFile, UntrustedArchive

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_DOCX_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000
MAX_STYLES_BYTES = 8 << 20
LIMITS = Limits(max_member_bytes=64 << 20, max_total_bytes=160 << 20, max_elements=3_000_000)
BOUNDS = Bounds(memory_bytes=768 << 20, cpu_seconds=60, wall_seconds=90.0)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W_P, W_T, W_TC, W_PSTYLE, W_STYLE, W_NAME = (f"{_W}{n}" for n in ("p", "t", "tc", "pStyle", "style", "name"))
W_VAL, W_STYLE_ID, W_TYPE = f"{_W}val", f"{_W}styleId", f"{_W}type"


class TextState(StrEnum):
    """Where reading an item's text stands."""

    PENDING = "pending"
    READY = "ready"
    NONE = "none"
    FAILED = "failed"


TEXT_STATE_LABELS = {
    TextState.PENDING: "处理中",
    TextState.READY: "正文已读取",
    TextState.NONE: "无正文（按标题和标签检索）",
    TextState.FAILED: "正文无法读取",
}


@dataclass(frozen=True)
class Block:
    """One paragraph: its text and whether its style makes it a heading (标题)."""

    text: str
    heading: bool = False


@dataclass
class _Paragraph:
    in_table: bool
    style: str | None = None
    parts: list[str] = field(default_factory=list)


def _is_heading_name(name: str) -> bool:
    return name.lower().startswith(("heading", "title")) or name.startswith(("标题", "题目"))


def _heading_styles(archive: UntrustedArchive) -> frozenset[str]:
    """The ids of the paragraph styles whose names make a heading."""
    if not archive.has("word/styles.xml") or archive.size_of("word/styles.xml") > MAX_STYLES_BYTES:
        return frozenset()
    found, current = set(), None
    for event, element in archive.iterparse("word/styles.xml"):
        if event != "start":
            continue
        if element.tag == W_STYLE:
            current = element.get(W_STYLE_ID) if element.get(W_TYPE, "paragraph") == "paragraph" else None
        elif element.tag == W_NAME and current is not None and _is_heading_name(element.get(W_VAL, "")):
            found.add(current)
    return frozenset(found)


def docx_blocks(file: BinaryIO) -> list[Block]:
    """The non-empty paragraphs of a .docx in reading order, table cells included; UnsafeFile when the
    package or its XML is broken, too big or too complex."""
    with UntrustedArchive(file, LIMITS) as archive:
        if not archive.has("word/document.xml"):
            raise UnsafeFile("not_word_document", "文件不是有效的 Word 文档（缺少正文 word/document.xml）")
        headings = _heading_styles(archive)
        blocks: list[Block] = []
        open_paragraphs: list[_Paragraph] = []
        cells = chars = 0
        for event, element in archive.iterparse("word/document.xml"):
            tag = element.tag
            if event == "start":
                if tag == W_TC:
                    cells += 1
                elif tag == W_P:
                    open_paragraphs.append(_Paragraph(in_table=cells > 0))
                elif tag == W_PSTYLE and open_paragraphs:
                    open_paragraphs[-1].style = element.get(W_VAL)
            elif tag == W_TC:
                cells -= 1
            elif tag == W_T and open_paragraphs:
                open_paragraphs[-1].parts.append(element.text or "")
            elif tag == W_P and open_paragraphs:
                paragraph = open_paragraphs.pop()
                text = "".join(paragraph.parts).strip()
                if text:
                    chars += len(text)
                    if chars > MAX_TEXT_CHARS:
                        raise UnsafeFile("text_too_long", f"正文超过 {MAX_TEXT_CHARS // 10000} 万字，未予读取")
                    heading = not paragraph.in_table and paragraph.style in headings
                    blocks.append(Block(text=text, heading=heading))
        return blocks


def blocks_of_path(path: str) -> list[list[object]]:
    """The sandboxed job: ``docx_blocks`` of the file at ``path`` as JSON ([text, heading] pairs)."""
    with open(path, "rb") as file:
        return [[b.text, b.heading] for b in docx_blocks(file)]


def read_blocks(objects: ObjectStore, *, key: str) -> list[Block]:
    """The paragraphs of a stored .docx, read in a bounded child process; SandboxFailed when it cannot be."""
    with objects.open(key) as stream:
        pairs = run_bounded("docx_blocks", stream, bounds=BOUNDS, max_bytes=MAX_DOCX_BYTES)
    return [Block(text=str(text), heading=bool(heading)) for text, heading in pairs]
