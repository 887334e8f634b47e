"""An activity report (.docx) as the HTML of a news entry: its text only, every character escaped.

Pictures embedded in the Word file are left out on purpose: photos are published only as separate
media items whose guardian consent is on record.
"""

from __future__ import annotations

from html import escape


def blocks_to_html(blocks: list[tuple[str, bool]]) -> str:
    """Paragraphs as <p>, headings as <h3>; text escaped."""
    return "\n".join(f"<h3>{escape(text)}</h3>" if heading else f"<p>{escape(text)}</p>" for text, heading in blocks)
