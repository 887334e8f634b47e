"""The 批复 (decision letter) on an application to join an alliance, built with ``docx_kit``.

方案: 「各民办园……书面打报告至区教科体局申请，经批复即可加入1+1+N幼教联盟」. The letter is laid out as
a short official reply: the bureau's name, the document number, the title, the addressee, the body,
the issuing office and date, and the verification code that ``/verify`` answers. ``templates.build_files``
lists the builder in its ``TEMPLATES`` and writes the file.
"""

from __future__ import annotations

from collections.abc import Callable

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from templates import docx_kit as b
from templates.district import BUREAU_NAME

BODY = Pt(15)  # 三号 is the official size; a size smaller keeps a long opinion on one page
SMALL = Pt(9)


def _rule(paragraph: object) -> None:
    """A red line under the masthead (版头分隔线), as official letters have."""
    p_pr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    p_pr.append(border)


def decision_letter() -> DocumentObject:
    """批复: the bureau's decision on one application, approval or rejection alike."""
    document = b.start("青山湖区1+1+N幼教联盟入盟申请批复")
    b._paragraph(
        document, BUREAU_NAME, size=Pt(26), east_asia=b.HEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(12)
    )
    number = b._paragraph(document, "{{ number }}", size=Pt(14), align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(18))
    _rule(number)
    b.title(document, "{{ title }}", size=20)
    b._paragraph(document, "{{ addressee }}：", size=BODY, before=Pt(12), after=Pt(6))
    b._paragraph(document, "{%p for line in body %}")
    paragraph = b._paragraph(document, "{{ line }}", size=BODY, after=Pt(6))
    paragraph.paragraph_format.first_line_indent = Pt(30)
    paragraph.paragraph_format.line_spacing = 1.5
    paragraph.paragraph_format.keep_with_next = False
    b._paragraph(document, "{%p endfor %}")
    for text, before in (("{{ issuer }}", Pt(36)), ("{{ issued_on }}", Pt(4))):
        b._paragraph(document, text, size=BODY, align=WD_ALIGN_PARAGRAPH.RIGHT, before=before)
    b._paragraph(
        document, "（{{ office }}承办　申请编号：{{ application_no }}）", size=SMALL, align=WD_ALIGN_PARAGRAPH.RIGHT,
        before=Pt(18),
    )  # fmt: skip
    b._paragraph(
        document, "核验码：{{ verification_code }}　　核验网址：{{ verify_url }}", size=SMALL,
        align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(24),
    )  # fmt: skip
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    b._run(footer, "{{ number }}", size=SMALL)
    b._drop_unused_styles(document)
    return document


DECISION_TEMPLATES: dict[str, Callable[[], DocumentObject]] = {"decision_letter.docx": decision_letter}
