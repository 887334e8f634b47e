"""Teaching-research activities through the HTTP API: planning, announcing, attendance, sign-in sheet,
comments and who may see what."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

from docx import Document as WordDocument
from sqlalchemy import select

from tests.fixtures.activities import NASTY, activity_body, create_activity, fire, record_all, teacher_ids, upload
from tests.fixtures.files import pdf_bytes
from workflows import clock
from workflows.activities.documents import qr_png
from workflows.activities.models import Activity
from workflows.channels import dispatch
from workflows.notifications import Notification
from workflows.outbox import OutboxMessage


def test_lead_plans_an_activity_with_the_research_group_invited(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world, allow_late=False)
    assert a["state"] == "planned" and a["version"] == 1
    assert a["number"] == "TA-2026年秋季学期-01" and a["semester"] == semester
    assert a["centralised"] is False and a["counting_reason"] == "尚未举行，不计入"
    # Typed without a zone: China time, 09:00 CST = 01:00 UTC.
    assert datetime.fromisoformat(a["starts_at"]).astimezone(UTC).hour == 1
    names = {p["name"]: p for p in a["participants"]}
    # Every kindergarten's 业务园长 is invited; the presenter is marked as such.
    assert set(names) == {"A-LEAD业务", "A-PIL业务", "A-M1业务", "A-M2业务"}
    assert names["A-PIL业务"]["role"] == "presenter"
    assert a["attendance"]["expected"] == 4 and a["attendance"]["unrecorded"] == 4
    assert a["allowed_events"] == ["announce", "cancel"]
    second = create_activity(client, login, runtime, world, format="送教")
    assert second["number"] == "TA-2026年秋季学期-02" and second["centralised"] is False


def test_invalid_activities_get_422_naming_each_field(client, world, login, runtime, semester):
    body = activity_body(
        runtime,
        world,
        host_kindergarten_id=world.kid("B-PIL"),
        starts_at="2001-01-01T09:00:00",
        ends_at="2000-12-31T09:00:00",
        place="",
        presenter_teacher_ids=teacher_ids(runtime, "B-M1-T1"),
    )
    r = client.post("/api/activities", headers=login("lead-a"), json=body)
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"host_kindergarten_id", "starts_at", "ends_at", "place", "presenter_teacher_ids.0"}
    bad = client.post("/api/activities", headers=login("lead-a"), json={**body, "domain": "数学", "format": "开会"})
    assert {e["field"] for e in bad.json()["errors"]} >= {"domain", "format"}
    unknown = client.post(
        "/api/activities", headers=login("lead-a"), json=activity_body(runtime, world, semester="2030-spring")
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "semester"


def test_only_the_alliance_lead_and_pillar_plan_its_activities(client, world, login, runtime, semester):
    body = activity_body(runtime, world)
    assert client.post("/api/activities", headers=login("lead-b"), json=body).status_code == 404
    assert client.post("/api/activities", headers=login("kg-a1"), json=body).status_code == 404
    assert client.post("/api/activities", headers=login("officer"), json=body).status_code == 404
    by_pillar = client.post("/api/activities", headers=login("pillar-a"), json=body)
    assert by_pillar.status_code == 201
    # The pillar may host and edit what it planned, but announcing is the lead's.
    assert fire(client, login("pillar-a"), by_pillar.json(), "announce").status_code == 403


def test_other_alliances_and_outsiders_get_404(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    for who in ("lead-b", "kg-b1", "kg-out"):
        h = login(who)
        assert client.get(f"/api/activities/{a['id']}", headers=h).status_code == 404
        assert client.get(f"/api/activities/{a['id']}/history", headers=h).status_code == 404
        assert client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=h).status_code == 404
        assert client.get(f"/api/activities/{a['id']}/materials", headers=h).status_code == 404
        assert upload(client, h, a["id"], "report", pdf_bytes(), "x.pdf").status_code == 404
        assert fire(client, h, a, "announce").status_code == 404
        assert client.get("/api/activities", headers=h).json() == []
    for who in ("officer", "researcher", "kg-a1", "kg-a2", "pillar-a"):
        assert client.get(f"/api/activities/{a['id']}", headers=login(who)).status_code == 200


def test_announcing_notifies_section_researcher_and_every_kindergarten(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    r = fire(client, login("lead-a"), a, "announce")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "announced" and r.json()["announced_in_advance"] is False
    with runtime.db.session() as s:
        notices = s.scalars(select(Notification).where(Notification.kind == "activity.announced")).all()
        told = {n.user_id for n in notices}
    expected = {world.users[u].id for u in ("officer", "researcher", "lead-a", "pillar-a", "kg-a1", "kg-a2")}
    assert told == expected  # not alliance B, not the outsider, not the admin
    assert NASTY in notices[0].body or "A-PIL" in notices[0].body
    # Stale version and a repeated announce are both 409.
    assert fire(client, login("lead-a"), a, "announce").status_code == 409
    assert fire(client, login("lead-a"), r.json(), "announce").json()["code"] == "transition_not_allowed"


def test_a_failing_channel_never_blocks_announcing(client, world, login, runtime, semester, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("robot webhook misconfigured")

    monkeypatch.setattr(dispatch, "announce", broken)
    a = create_activity(client, login, runtime, world)
    r = fire(client, login("lead-a"), a, "announce")
    assert r.status_code == 200 and r.json()["state"] == "announced"
    with runtime.db.session() as s:
        assert s.scalar(select(Notification).where(Notification.kind == "activity.announced")) is not None


def test_cancel_needs_a_reason_and_tells_those_who_were_told(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    announced = fire(client, login("lead-a"), a, "announce").json()
    no_reason = fire(client, login("lead-a"), announced, "cancel")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "comment"
    r = fire(client, login("lead-a"), announced, "cancel", comment="承办园停电")
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["cancel_reason"] == "承办园停电"
    with runtime.db.session() as s:
        assert s.scalars(select(Notification).where(Notification.kind == "activity.cancelled")).all()
    assert fire(client, login("lead-a"), r.json(), "hold").status_code == 409


def test_holding_before_the_day_is_refused(client, world, login, runtime, semester):
    later = (datetime.now(clock.BEIJING).replace(tzinfo=None) + timedelta(days=5)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    a = create_activity(client, login, runtime, world, starts_at=later.isoformat(), ends_at=None)
    announced = fire(client, login("lead-a"), a, "announce").json()
    assert announced["announced_in_advance"] is True
    r = fire(client, login("lead-a"), announced, "hold")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "starts_at"


def test_edit_keeps_recorded_attendance_and_checks_the_version(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    h = login("lead-a")
    a = fire(client, h, a, "announce").json()
    one = a["participants"][0]["teacher_id"]
    r = client.put(
        f"/api/activities/{a['id']}/attendance",
        headers=h,
        json={"entries": [{"teacher_id": one, "attendance": "leave"}]},
    )
    assert r.status_code == 200
    extra = teacher_ids(runtime, "A-M1-T2")
    keep = [p["teacher_id"] for p in a["participants"] if p["role"] != "presenter"]
    edited = client.put(
        f"/api/activities/{a['id']}",
        headers=h,
        json={"version": a["version"], "topic": "新主题", "participant_teacher_ids": keep + extra},
    )
    assert edited.status_code == 200, edited.text
    e = edited.json()
    assert e["topic"] == "新主题" and e["version"] == a["version"] + 1
    assert {p["teacher_id"]: p["attendance"] for p in e["participants"]}[one] == "leave"
    assert len(e["participants"]) == 5
    stale = client.put(f"/api/activities/{a['id']}", headers=h, json={"version": a["version"], "topic": "x"})
    assert stale.status_code == 409
    assert client.put(f"/api/activities/{a['id']}", headers=login("kg-a1"), json={"version": 2}).status_code == 403


def test_attendance_is_recorded_by_the_lead_or_host_and_walk_ins_are_added(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    a = fire(client, login("lead-a"), a, "announce").json()
    assert record_all(client, login("kg-a1"), a).status_code == 403  # a member, not the host
    walk_in, outsider = teacher_ids(runtime, "A-LEAD-T2", "B-M1-T1")
    bad = client.put(
        f"/api/activities/{a['id']}/attendance",
        headers=login("pillar-a"),
        json={"entries": [{"teacher_id": outsider, "attendance": "present"}]},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "entries.0.teacher_id"
    statuses = ["present", "late", "leave", "absent"]
    entries = [
        {"teacher_id": p["teacher_id"], "attendance": s} for p, s in zip(a["participants"], statuses, strict=True)
    ]
    entries.append({"teacher_id": walk_in, "attendance": "present", "note": "临时参加"})
    r = client.put(f"/api/activities/{a['id']}/attendance", headers=login("pillar-a"), json={"entries": entries})
    assert r.status_code == 200, r.text
    assert r.json()["attendance"] == {
        "expected": 5, "present": 3, "late": 1, "leave": 1, "absent": 1, "unrecorded": 0
    }  # fmt: skip


def test_sign_in_sheet_opens_in_word_with_names_as_written_and_a_qr_code(client, world, login, runtime, semester):
    a = create_activity(
        client, login, runtime, world, participant_teacher_ids=teacher_ids(runtime, "A-LEAD-T1", "A-M1-T2", "A-M2-T1")
    )
    r = client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=login("kg-a1"))
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    document = WordDocument(io.BytesIO(r.content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(cells)
    assert f"{NASTY}老师" in cells  # the teacher's name, escaped in XML and shown as written
    assert f"A-M1 {NASTY}" in cells and a["topic"] in cells
    assert "成员" in cells and "龙头" in cells and "支柱" in cells
    assert a["number"] in text and "应到 4 人" in text and "实到 ____ 人" in text
    # 扫码签到: the QR picture is the code of the sign-in page at the public address, with the activity's
    # random token (not its id), and the address is printed under it.

    with runtime.db.session() as s:
        token = s.get(Activity, uuid.UUID(a["id"])).sign_in_token
    url = f"{runtime.settings.base_url}/sign-in/{token}"
    assert url.startswith("http") and a["id"] not in url and len(token) >= 24
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert [z.read(n) for n in media] == [qr_png(url)]
    assert f"手机扫码签到：{url}" in text and "本签到表经签名后为存档原件" in text
    # Printing is a GET: it changes nothing, however often; without changes it gives the same bytes.
    lead = login("lead-a")
    assert client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=lead).content == r.content
    client.put(f"/api/activities/{a['id']}", headers=lead, json={"version": a["version"], "place": "第二会议室"})
    for _ in range(3):
        assert client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=lead).status_code == 200
    assert client.get(f"/api/activities/{a['id']}/documents", headers=lead).json() == []
    assert client.get(f"/api/activities/{a['id']}", headers=lead).json()["version"] == a["version"] + 1


def test_the_researcher_comments_and_the_lead_is_told(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    r = client.post(
        f"/api/activities/{a['id']}/comments", headers=login("researcher"), json={"body": "建议增加观察记录"}
    )
    assert r.status_code == 201
    assert (
        client.post(f"/api/activities/{a['id']}/comments", headers=login("kg-a1"), json={"body": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/api/activities/{a['id']}/comments", headers=login("kg-b1"), json={"body": "x"}).status_code
        == 404
    )
    listed = client.get(f"/api/activities/{a['id']}/comments", headers=login("kg-a2")).json()
    assert [c["body"] for c in listed] == ["建议增加观察记录"]
    with runtime.db.session() as s:
        told = s.scalars(select(Notification.user_id).where(Notification.kind == "activity.commented")).all()
    assert told == [world.users["lead-a"].id]


def test_archive_requires_attendance_and_a_sign_in_sheet(client, world, login, runtime, semester):
    h = login("lead-a")
    a = create_activity(client, login, runtime, world)
    a = fire(client, h, a, "announce").json()
    a = fire(client, h, a, "hold").json()
    r = fire(client, h, a, "archive")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"attendance", "materials.sign_in"}
    with runtime.db.session() as s:
        assert not s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "activity.archive_requested")).all()
