"""An activity report (.docx) as the HTML of a news entry: its text only, every character escaped.

Pictures embedded in the Word file are left out on purpose: photos are published only as separate
media items whose guardian consent is on record.
"""

from __future__ import annotations

from html import escape

from storage.objects import ObjectStore
from workflows.library.extraction import MAX_DOCX_BYTES, docx_blocks


def blocks_to_html(blocks: list[tuple[str, bool]]) -> str:
    """Paragraphs as <p>, headings as <h3>; text escaped."""
    return "\n".join(f"<h3>{escape(text)}</h3>" if heading else f"<p>{escape(text)}</p>" for text, heading in blocks)


def report_html(objects: ObjectStore, *, key: str) -> str:
    """The HTML body of a stored 活动报道 .docx."""
    with objects.open(key) as stream:
        content = stream.read(MAX_DOCX_BYTES + 1)
    return blocks_to_html([(b.text, b.heading) for b in docx_blocks(content)])
