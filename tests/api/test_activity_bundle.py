"""Archiving an activity builds its bundle in the background: layout, manifest, UTF-8 names, safe paths,
the 四性检测 report, idempotent redelivery and byte-identical rebuilds; local download and S3 redirect."""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import urllib.request
import uuid
import zipfile
from datetime import datetime, timedelta

from docx import Document as WordDocument
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from api.main import create_app
from storage.runtime import build_runtime
from tests.fixtures.activities import SEMESTER, fire, held_with_materials, today, upload
from tests.fixtures.app import PASSWORD, build_world
from tests.fixtures.files import pdf_bytes
from tests.fixtures.s3 import s3_settings
from workers.wiring import runner_for
from workflows.activities.models import ActivityBundle
from workflows.activities.semesters import ensure_semester
from workflows.activities.vocabulary import CATEGORY_FOLDERS

BUILD = "kinderflow.activities.build_bundle"


def archive_and_wait(client, runtime, headers, activity):
    r = fire(client, headers, activity, "archive")
    assert r.status_code == 200, r.text
    runner = runner_for(runtime)
    assert runner is not None and runner.drain(timeout=60)
    assert not runner.failures, runner.failures
    return r.json()


def read_members(content: bytes) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        infos = z.infolist()
        return infos, {i.filename: z.read(i) for i in infos if not i.is_dir()}


def test_archive_builds_a_bundle_with_the_agreed_layout(client, world, login, runtime, semester):
    h = login("lead-a")
    a = held_with_materials(client, login, runtime, world)
    assert client.get(f"/api/activities/{a['id']}/bundle/status", headers=h).json()["code"] == "not_archived"
    a = archive_and_wait(client, runtime, h, a)
    assert a["state"] == "archived"
    status = client.get(f"/api/activities/{a['id']}/bundle/status", headers=login("researcher")).json()
    assert status["state"] == "ready" and status["percent"] == 100 and status["filename"].endswith("_活动档案.zip")

    got = client.get(f"/api/activities/{a['id']}/bundle", headers=login("kg-a2"))
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''" in got.headers["content-disposition"]
    assert hashlib.sha256(got.content).hexdigest() == status["sha256"]
    assert client.get(f"/api/activities/{a['id']}/bundle", headers=login("kg-b1")).status_code == 404

    infos, files = read_members(got.content)
    day = (today() - timedelta(days=2)).strftime("%Y%m%d")
    root = f"{day}-01-{a['topic'].replace('<', '_').replace('>', '_')}"
    # Every name is UTF-8 flagged, relative, and stays inside the bundle's one root folder.
    for info in infos:
        assert info.flag_bits & 0x800, info.filename
        normal = posixpath.normpath(info.filename)
        assert not info.filename.startswith("/") and not normal.startswith("..") and "\\" not in info.filename
        assert info.filename.split("/")[0] == root
    folders = {i.filename for i in infos if i.is_dir()}
    assert {f"{root}/00_目录/"} | {f"{root}/{f}/" for f in CATEGORY_FOLDERS.values()} <= folders
    index = f"{root}/00_目录"
    assert {
        f"{index}/封面.docx",
        f"{index}/归档文件目录.xlsx",
        f"{index}/四性检测报告.docx",
        f"{index}/manifest.json",
    } <= set(files)
    assert f"{root}/02_教案/教案.docx" in files and f"{root}/06_影像资料/课堂实录.mp4" in files
    assert f"{root}/03_反思/执教反思 A&B.docx" in files

    manifest = json.loads(files[f"{index}/manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {f"{index}/manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest() and entry["size"] == len(files[path])
    assert manifest["activity"]["number"] == a["number"]
    assert status["manifest_sha256"] == hashlib.sha256(files[f"{index}/manifest.json"]).hexdigest()

    sheet = load_workbook(io.BytesIO(files[f"{index}/归档文件目录.xlsx"])).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    by_path = {r[3]: r for r in rows}
    assert by_path[f"{root}/02_教案/教案.docx"][5] == listed[f"{root}/02_教案/教案.docx"]["sha256"]
    assert (
        by_path[f"{root}/01_签到表/签到表.pdf"][1] == "签到表"
        and by_path[f"{root}/01_签到表/签到表.pdf"][6] == "pillar-a"
    )
    assert len(rows) == 6 + 2  # the materials, the cover and the check report

    report = "\n".join(
        c.text
        for t in WordDocument(io.BytesIO(files[f"{index}/四性检测报告.docx"])).tables
        for r in t.rows
        for c in r.cells
    )
    assert "真实性" in report and "完整性" in report and "可用性" in report and "安全性" in report
    assert "缺少：课例、研讨记录" in report
    paragraphs = [p.text for p in WordDocument(io.BytesIO(files[f"{index}/四性检测报告.docx"])).paragraphs]
    assert "检测结论：四性检测通过" in paragraphs
    cover = WordDocument(io.BytesIO(files[f"{index}/封面.docx"]))
    cover_text = "\n".join(c.text for t in cover.tables for r in t.rows for c in r.cells)
    assert a["topic"] in cover_text and "10年" in cover_text and "07_活动报道" in cover_text


def test_redelivery_changes_nothing_and_a_rebuild_is_byte_identical(client, world, login, runtime, semester):
    h = login("lead-a")
    a = archive_and_wait(client, runtime, h, held_with_materials(client, login, runtime, world))
    with runtime.db.session() as s:
        first = s.get(ActivityBundle, uuid.UUID(a["id"]))
        key, sha, finished = first.object_key, first.sha256, first.finished_at
    original = b"".join(runtime.objects.iter_chunks(key))
    runner = runner_for(runtime)
    # A second delivery of the same task finds the bundle built.
    assert runner.submit(BUILD, activity_id=a["id"]).result(timeout=60) == "done"
    with runtime.db.session() as s:
        again = s.get(ActivityBundle, uuid.UUID(a["id"]))
        assert (again.object_key, again.sha256, again.finished_at) == (key, sha, finished)
    # Lost from the store, it is built again from the same materials: the very same bytes and key.
    runtime.objects.delete(key)
    assert runner.submit(BUILD, activity_id=a["id"]).result(timeout=60) == "built"
    assert b"".join(runtime.objects.iter_chunks(key)) == original
    with runtime.db.session() as s:
        assert s.get(ActivityBundle, uuid.UUID(a["id"])).sha256 == sha
    # Nothing can be added once archived.
    assert upload(client, login("pillar-a"), a["id"], "discussion", pdf_bytes(), "研讨.pdf").status_code == 409


def test_bundle_is_not_ready_until_built_and_unknown_rows_are_skipped(client, world, login, runtime, semester):
    a = held_with_materials(client, login, runtime, world)
    runner = runner_for(runtime)
    assert runner.submit(BUILD, activity_id=a["id"]).result(timeout=30) == "skipped"  # not archived
    assert runner.submit(BUILD, activity_id=str(uuid.uuid4())).result(timeout=30) == "skipped"
    with runtime.db.session() as s:
        assert s.scalars(select(ActivityBundle)).all() == []


def test_on_s3_the_download_is_a_presigned_redirect(db, s3_server, tmp_path):
    settings = s3_settings(s3_server, f"kf-{uuid.uuid4().hex[:10]}", tmp_path).model_copy(
        update={"database_url": db.url}
    )
    runtime = build_runtime(settings)
    world = build_world(runtime)
    with runtime.db.session() as s:
        ensure_semester(
            session=s, code=SEMESTER, starts_on=today() - timedelta(days=60), ends_on=today() + timedelta(days=60)
        )
    with TestClient(create_app(runtime=runtime)) as client:
        tokens: dict[str, dict[str, str]] = {}

        def login(username: str) -> dict[str, str]:
            if username not in tokens:
                token = client.post("/api/auth/token", data={"username": username, "password": PASSWORD}).json()
                tokens[username] = {"Authorization": f"Bearer {token['access_token']}"}
            return tokens[username]

        a = held_with_materials(client, login, runtime, world)
        a = archive_and_wait(client, runtime, login("lead-a"), a)
        r = client.get(f"/api/activities/{a['id']}/bundle", headers=login("officer"), follow_redirects=False)
        assert r.status_code == 307
        with urllib.request.urlopen(r.headers["location"], timeout=10) as response:
            content = response.read()
        status = client.get(f"/api/activities/{a['id']}/bundle/status", headers=login("officer")).json()
        assert hashlib.sha256(content).hexdigest() == status["sha256"]
        assert any(n.endswith("manifest.json") for n in zipfile.ZipFile(io.BytesIO(content)).namelist())
    runtime.close()


def test_progress_is_reported_while_building(client, world, login, runtime, semester):
    """The status is readable at every step; after the build it shows both phases completed."""
    h = login("lead-a")
    a = archive_and_wait(client, runtime, h, held_with_materials(client, login, runtime, world))
    status = client.get(f"/api/activities/{a['id']}/bundle/status", headers=h).json()
    assert status["state"] == "ready" and status["done"] == status["total"] > 0
    assert datetime.fromisoformat(status["finished_at"]) >= datetime.fromisoformat(status["requested_at"])
