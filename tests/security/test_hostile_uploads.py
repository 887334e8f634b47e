"""Hostile uploads: polyglots, disguised types, traversal names, zip bombs, XXE and billion laughs.

Oversized bodies (declared and chunked) are covered by tests/api/test_upload_limits.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.faults.applicants import full_form
from tests.fixtures.activities import create_activity, semester, upload  # noqa: F401 - semester is a fixture
from tests.fixtures.files import pdf_bytes
from tests.security import hostile_files as hostile

QUICK = 10.0  # seconds: a hostile file is refused (or defused) fast, never by exhausting the server


def attach(client: Any, headers: dict[str, str], app_id: str, content: bytes, filename: str) -> Any:
    return client.post(
        f"/api/applications/{app_id}/attachments",
        headers=headers,
        data={"kind": "licence"},
        files={"file": (filename, content, "text/html")},
    )


@pytest.fixture
def draft(client, login, world) -> dict[str, Any]:
    return client.post("/api/applications", headers=login("kg-a1"), json=full_form(5)).json()


@pytest.mark.parametrize(
    "content,filename",
    [
        (hostile.HTML, "licence.pdf"),
        (hostile.html_with_late_pdf_signature(), "licence.pdf"),
        (hostile.zip_bytes(), "licence.pdf"),
        (b"MZ\x90\x00" + b"\0" * 512, "licence.jpg"),
    ],
    ids=["html-as-pdf", "html-then-pdf-signature", "zip-as-pdf", "exe-as-jpg"],
)
def test_disguised_files_are_refused_by_content(client, login, draft, content, filename):
    r = attach(client, login("kg-a1"), draft["id"], content, filename)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["code"] == "unsupported_type"


@pytest.mark.parametrize(
    "content,mime,extension",
    [(hostile.jpeg_zip_polyglot(), "image/jpeg", ".jpg"), (hostile.pdf_html_polyglot(), "application/pdf", ".pdf")],
    ids=["jpeg+zip+html", "pdf+html"],
)
def test_polyglots_are_kept_as_what_they_open_as_and_never_served_as_html(
    client, login, draft, content, mime, extension
):
    h = login("kg-a1")
    r = attach(client, h, draft["id"], content, "page.html")
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["content_type"], stored["filename"]) == (mime, f"page{extension}")
    served = client.get(f"/api/applications/{draft['id']}/attachments/{stored['id']}/content", headers=h)
    assert served.content == content
    assert served.headers["content-type"] == mime
    assert served.headers["x-content-type-options"] == "nosniff"
    assert f'filename="page{extension}"' in served.headers["content-disposition"]


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/passwd.pdf", "..\\..\\windows\\system32\\boot.pdf", "C:\\temp\\x.pdf", '"quoted";\r\nX-Injected: 1.pdf',
     "\x00nul.pdf", ".hidden.pdf", "a/b/c/../../d.pdf", "幼儿园/../许可证.pdf"],
)  # fmt: skip
def test_traversal_and_header_breaking_names_are_made_safe(client, login, draft, name):
    h = login("kg-a1")
    r = attach(client, h, draft["id"], pdf_bytes(), name)
    assert r.status_code == 201, r.text
    safe = r.json()["filename"]
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert not any(ch in safe for ch in '\x00\r\n"') and safe.endswith(".pdf")
    served = client.get(f"/api/applications/{draft['id']}/attachments/{r.json()['id']}/content", headers=h)
    disposition = served.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "x-injected" not in served.headers


@pytest.mark.parametrize(
    "make,expected",
    [
        (hostile.zip_bomb_docx, 422),
        (hostile.docx_with_xxe, None),
        (hostile.docx_with_billion_laughs, None),
    ],
    ids=["zip-bomb", "xxe", "billion-laughs"],
)
def test_hostile_word_materials_are_refused_or_defused(client, login, runtime, world, semester, make, expected):  # noqa: F811
    activity = create_activity(client, login, runtime, world)
    content = make()
    started = time.monotonic()
    r = upload(client, login("pillar-a"), activity["id"], "lesson_plan", content, "教案.docx")
    assert time.monotonic() - started < QUICK
    assert r.status_code < 500, r.text
    if expected is not None:
        assert r.status_code == expected, r.text
    assert "root:" not in r.text and "lollollol" not in r.text
    if r.status_code == 201:  # accepted: stored byte for byte, no entity ever expanded
        served = client.get(
            f"/api/activities/{activity['id']}/materials/{r.json()['id']}/content", headers=login("pillar-a")
        )
        assert served.content == content


@pytest.mark.parametrize(
    "make",
    [hostile.xlsx_with_xxe, hostile.xlsx_with_billion_laughs, hostile.xlsx_zip_bomb],
    ids=["xxe", "billion-laughs", "zip-bomb"],
)
def test_hostile_arrangement_tables_are_refused_quickly(client, login, world, make):
    content = make()
    started = time.monotonic()
    r = client.post(
        "/api/arrangement",
        headers=login("officer"),
        files={"file": ("联盟安排表.xlsx", content, "application/octet-stream")},
    )
    assert time.monotonic() - started < QUICK, "a hostile workbook must not keep the server busy"
    assert 400 <= r.status_code < 500, r.text
    assert "root:" not in r.text and "lollollol" not in r.text
