"""Template code typed into the application form prints as written in the generated 申请表 (.docx)."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from docx import Document as WordDocument

from tests.faults.applicants import ATTACHMENTS, full_form
from tests.fixtures.agreements import drain

PAYLOADS = [
    "{{7*7}}",
    "{% for x in range(3) %}循环{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "A&B<幼儿园>\"'",
    "{{ config }}{{ self }}",
    "]]><w:t>injected</w:t><![CDATA[",
]
# Every free-text field of the form (the others are validated numbers, dates, codes and phones).
TEXT_FIELDS = ["name", "licence_no", "sponsor", "legal_representative", "head_name", "contact_name", "address",
               "town", "reasons"]  # fmt: skip


def document_text(content: bytes) -> str:
    """All text of the main document part, runs joined, XML entities resolved."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    return unescape("".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml)))


@pytest.mark.parametrize("rotation", range(len(PAYLOADS)))
def test_every_text_field_renders_template_code_literally(client, login, world, runtime, rotation):
    h = login("kg-out")
    values = {field: PAYLOADS[(i + rotation) % len(PAYLOADS)] for i, field in enumerate(TEXT_FIELDS)}
    app = client.post("/api/applications", headers=h, json=full_form(11, **values))
    assert app.status_code == 201, app.text
    app = app.json()
    for kind, content, filename in ATTACHMENTS:
        r = client.post(
            f"/api/applications/{app['id']}/attachments",
            headers=h,
            data={"kind": kind},
            files={"file": (filename, content)},
        )
        assert r.status_code == 201, r.text
    app = client.get(f"/api/applications/{app['id']}", headers=h).json()
    r = client.post(f"/api/applications/{app['id']}/events/submit", headers=h, json={"version": app["version"]})
    assert r.status_code == 200, r.text
    drain(runtime)  # the 申请表 renders after the commit
    [doc] = client.get(f"/api/applications/{app['id']}/documents", headers=h).json()
    content = client.get(f"/api/documents/{doc['id']}/content", headers=h).content

    WordDocument(io.BytesIO(content))  # still a valid Word file
    text = document_text(content)
    for field, value in values.items():
        assert value in text, f"{field}: {value!r} did not print as written"
    assert "injected" not in text.replace("<w:t>injected</w:t>", "")
    assert "循环循环循环" not in text and "<class" not in text
