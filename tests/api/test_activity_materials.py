"""Activity materials: types by content, Word files that hide macros or bombs, safe and unique names,
who may upload, and what is still missing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from storage.runtime import build_runtime
from tests.fixtures.activities import (
    SEMESTER,
    create_activity,
    docm_bytes,
    docx_bytes,
    docx_with_vba_only,
    fire,
    mp4_bytes,
    teacher_ids,
    today,
    upload,
    zip_bomb_docx,
)
from tests.fixtures.app import PASSWORD, build_world, make_settings
from tests.fixtures.files import exe_bytes, jpeg_bytes, pdf_bytes, png_bytes
from workflows import clock
from workflows.activities.semesters import ensure_semester


@pytest.fixture
def activity(client, world, login, runtime, semester):
    return create_activity(client, login, runtime, world)


def test_each_category_accepts_its_types_judged_by_content(client, login, activity):
    h = login("lead-a")
    accepted = [
        ("lesson_plan", docx_bytes(), "教案.docx", "docx"),
        ("reflection", pdf_bytes(), "反思.pdf", "pdf"),
        ("sign_in", jpeg_bytes(), "签到表照片.jpeg", "jpg"),
        ("media", png_bytes(), "现场.png", "png"),
        ("media", mp4_bytes(), "课堂实录.mp4", "mp4"),
        ("report", pdf_bytes(), "报道.txt", "pdf"),  # a PDF with the wrong extension gets the right one
    ]
    for category, content, name, ext in accepted:
        r = upload(client, h, activity["id"], category, content, name)
        assert r.status_code == 201, (name, r.text)
        assert r.json()["filename"].endswith(f".{ext}") and r.json()["category"] == category
    refused = [
        ("media", docx_bytes(), "照片.jpg"),  # a Word file is not a photo, whatever its name
        ("lesson_plan", png_bytes(), "教案.docx"),
        ("lesson_case", exe_bytes(), "课例.pdf"),
        ("report", mp4_bytes(), "报道.pdf"),
    ]
    for category, content, name in refused:
        r = upload(client, h, activity["id"], category, content, name)
        assert r.status_code == 422, name
        assert r.json()["errors"][0]["code"] == "unsupported_type"
    bogus = upload(client, h, activity["id"], "gossip", pdf_bytes(), "x.pdf")
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "category"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (lambda: b"", "empty_file"),
        (docm_bytes, "macro_document"),
        (docx_with_vba_only, "macro_document"),
        (zip_bomb_docx, "suspicious_archive"),
        (lambda: b"PK\x03\x04" + b"\0" * 200, "not_word_document"),
    ],
    ids=["zero-bytes", "docm-renamed", "vba-inside", "zip-bomb", "broken-zip"],
)
def test_dangerous_or_empty_files_are_refused_before_storing(client, login, runtime, activity, content, code):
    before = set(runtime.objects.list_keys())
    r = upload(client, login("lead-a"), activity["id"], "lesson_plan", content(), "教案.docx")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["code"] == code
    assert set(runtime.objects.list_keys()) == before
    assert client.get(f"/api/activities/{activity['id']}/materials", headers=login("lead-a")).json() == []


def test_names_are_made_safe_and_duplicates_numbered(client, login, activity):
    h = login("lead-a")
    names = []
    for name in ("../../etc/passwd.jpg", "..\\..\\boot.ini", "a\x00b\x1fc\x7f.png", "长" * 300 + ".jpg", "照片.jpg"):
        r = upload(client, h, activity["id"], "media", jpeg_bytes(), name)
        assert r.status_code == 201, r.text
        names.append(r.json()["filename"])
    assert names[0] == "passwd.jpg"
    assert names[1] == "boot.jpg"
    assert "\x00" not in names[2] and "\x1f" not in names[2] and names[2].endswith(".jpg")
    assert len(names[3]) <= 120 and names[3].endswith(".jpg")
    assert names[4] == "照片.jpg"
    again = [upload(client, h, activity["id"], "media", jpeg_bytes(), "照片.jpg").json()["filename"] for _ in range(2)]
    assert again == ["照片 (2).jpg", "照片 (3).jpg"]
    # The same name in another category is no duplicate.
    assert upload(client, h, activity["id"], "sign_in", jpeg_bytes(), "照片.jpg").json()["filename"] == "照片.jpg"
    long_again = upload(client, h, activity["id"], "media", jpeg_bytes(), "长" * 300 + ".jpg").json()["filename"]
    assert long_again.endswith(" (2).jpg") and len(long_again) <= 120


def test_who_may_upload_and_until_when(client, world, login, runtime, activity):
    # Host (pillar-a) yes; a member that neither hosts nor presents: no; another alliance: not even visible.
    assert upload(client, login("pillar-a"), activity["id"], "report", pdf_bytes(), "r.pdf").status_code == 201
    assert upload(client, login("kg-a1"), activity["id"], "report", pdf_bytes(), "r.pdf").status_code == 403
    assert upload(client, login("officer"), activity["id"], "report", pdf_bytes(), "r.pdf").status_code == 403
    assert upload(client, login("lead-b"), activity["id"], "report", pdf_bytes(), "r.pdf").status_code == 404
    presented = create_activity(
        client,
        login,
        runtime,
        world,
        presenter_teacher_ids=[_teacher(runtime, "A-M1-T1")],
        host_kindergarten_id=world.kid("A-LEAD"),
    )
    assert upload(client, login("kg-a1"), presented["id"], "lesson_plan", docx_bytes(), "教案.docx").status_code == 201
    cancelled = fire(client, login("lead-a"), activity, "cancel", comment="改期")
    assert cancelled.status_code == 200
    late = upload(client, login("lead-a"), activity["id"], "report", pdf_bytes(), "r.pdf")
    assert late.status_code == 409


def _teacher(runtime, code):
    return teacher_ids(runtime, code)[0]


def test_completeness_lists_what_is_missing_and_download_and_withdraw(client, login, activity):
    h = login("lead-a")
    done = client.get(f"/api/activities/{activity['id']}/completeness", headers=h).json()
    assert done["complete"] is False and len(done["missing"]) == 7 and done["overdue"] is False
    m = upload(client, login("pillar-a"), activity["id"], "sign_in", pdf_bytes("sign"), "签到表.pdf").json()
    state = client.get(f"/api/activities/{activity['id']}/completeness", headers=h).json()
    assert "sign_in" not in state["missing"] and len(state["missing"]) == 6
    content = client.get(f"/api/activities/{activity['id']}/materials/{m['id']}/content", headers=login("kg-a2"))
    assert content.status_code == 200 and content.content == pdf_bytes("sign")
    withdraw = f"/api/activities/{activity['id']}/materials/{m['id']}/withdraw"
    assert client.post(withdraw, headers=login("kg-a1"), json={"reason": "传错了"}).status_code == 403
    assert client.post(withdraw, headers=login("pillar-a"), json={"reason": "传错了"}).status_code == 200
    assert client.get(f"/api/activities/{activity['id']}/materials", headers=h).json() == []
    # Its name is free again.
    again = upload(client, login("pillar-a"), activity["id"], "sign_in", pdf_bytes("sign2"), "签到表.pdf").json()
    assert again["filename"] == "签到表.pdf"


def test_materials_are_overdue_seven_days_after_a_held_activity(client, world, login, runtime, semester):
    past = (datetime.now(clock.BEIJING).replace(tzinfo=None) - timedelta(days=10)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    a = create_activity(client, login, runtime, world, starts_at=past.isoformat(), ends_at=None)
    h = login("lead-a")
    a = fire(client, h, fire(client, h, a, "announce").json(), "hold").json()
    state = client.get(f"/api/activities/{a['id']}/completeness", headers=h).json()
    assert state["overdue"] is True
    assert state["due_on"] == (past.date() + timedelta(days=7)).isoformat()


def test_media_may_be_larger_than_documents(db, tmp_path):
    runtime = build_runtime(make_settings(db.url, tmp_path, max_upload_bytes=4096, max_media_bytes=64 * 1024))
    world = build_world(runtime)
    with runtime.db.session() as s:
        ensure_semester(
            session=s, code=SEMESTER, starts_on=today() - timedelta(days=9), ends_on=today() + timedelta(days=9)
        )
    with TestClient(create_app(runtime=runtime)) as client:
        token = client.post("/api/auth/token", data={"username": "lead-a", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        a = create_activity(client, lambda _: h, runtime, world, allow_late=False)
        assert upload(client, h, a["id"], "media", mp4_bytes(20 * 1024), "实录.mp4").status_code == 201
        assert upload(client, h, a["id"], "media", mp4_bytes(80 * 1024), "实录.mp4").status_code == 413
        big_pdf = pdf_bytes() + b"%" * 8192
        assert upload(client, h, a["id"], "report", big_pdf, "报道.pdf").status_code == 413
    runtime.close()
