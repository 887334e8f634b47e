"""扫码签到: the sign-in sheet's QR code opens a phone page where a participant picks their name and
confirms with the last four digits of their phone; the time goes on the attendance; the paper sheet stays
the archive original. No login; only on the activity's day while it is announced or held."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.activities import create_activity, fire, teacher_ids, today
from workflows.activities.models import Activity, Participant
from workflows.activities.self_sign_in import PERSON_LIMIT
from workflows.clock import BEIJING
from workflows.registry.models import Teacher

PHONES = {"A-LEAD-T1": "13912340001", "A-M1-T1": "13912345678", "A-M2-T1": "13912340003"}


def on_day(day, hour=9):
    return datetime.combine(day, datetime.min.time()).replace(hour=hour).isoformat()


@pytest.fixture
def with_phones(runtime, semester):
    with runtime.db.session() as s:
        for t in s.scalars(select(Teacher).where(Teacher.code.in_(PHONES))):
            t.phone = PHONES[t.code]


def announced(client, login, runtime, world, day):
    """An activity of alliance A on ``day``, announced; its sign-in address (the QR code's) and participants."""
    a = create_activity(
        client, login, runtime, world, starts_at=on_day(day), ends_at=None,
        participant_teacher_ids=teacher_ids(runtime, *PHONES),
    )  # fmt: skip
    r = fire(client, login("lead-a"), a, "announce")
    assert r.status_code == 200, r.text
    with runtime.db.session() as s:
        activity = s.get(Activity, uuid.UUID(a["id"]))
        people = {p.teacher.code: str(p.id) for p in activity.participants if p.teacher is not None}
        return r.json(), f"/sign-in/{activity.sign_in_token}", people


def error(html, name):
    found = re.search(rf'<p class="field-error" id="err-{name}" role="alert">([^<]*)</p>', html)
    assert found, html[:2000]
    return found.group(1)


def attendee(client, login, a, code, runtime):
    detail = client.get(f"/api/activities/{a['id']}", headers=login("lead-a")).json()
    (tid,) = teacher_ids(runtime, code)
    return next(p for p in detail["participants"] if p["teacher_id"] == tid)


def test_扫码签到_a_participant_signs_in_with_the_last_four_digits_and_the_time_is_on_the_attendance(
    client, login, runtime, world, browser, with_phones
):
    a, url, people = announced(client, login, runtime, world, today())
    phone = browser()  # no login
    page = phone.get(url)
    assert page.status_code == 200 and "扫码签到" in page.text and a["topic"].replace("&", "&amp;")[:6] in page.text
    assert "纸质签到表为存档原件" in page.text
    assert all(pid in page.text for pid in people.values())
    # Wrong digits are refused next to the field, in Chinese, and nothing is recorded.
    wrong = phone.post(url, {"participant_id": people["A-M1-T1"], "digits": "0000"})
    assert wrong.status_code == 200 and error(wrong.text, "digits") == "手机号后四位不符，请重新输入"
    assert f'value="{people["A-M1-T1"]}" selected' in wrong.text
    assert attendee(client, login, a, "A-M1-T1", runtime)["attendance"] == "expected"
    assert error(phone.post(url, {"participant_id": "", "digits": "5678"}).text, "participant_id") == "请选择您的姓名"
    assert error(phone.post(url, {"participant_id": people["A-M1-T1"], "digits": "56"}).text, "digits") == (
        "请输入手机号后四位数字"
    )
    # The right digits sign them in: present, with the time, on the attendance the organiser sees.
    before = datetime.now(BEIJING).replace(microsecond=0) - timedelta(seconds=1)
    done = phone.post(url, {"participant_id": people["A-M1-T1"], "digits": "5678"})
    shown = phone.follow(done).text
    assert "签到成功" in shown
    row = attendee(client, login, a, "A-M1-T1", runtime)
    signed = datetime.fromisoformat(row["self_signed_at"])
    assert row["attendance"] == "present" and datetime.fromisoformat(row["signed_at"]) == signed
    assert before <= signed.astimezone(BEIJING) <= datetime.now(BEIJING)
    time = signed.astimezone(BEIJING).strftime("%H:%M")
    assert f"签到成功（{time}）" in shown
    lead = browser("lead-a")
    assert f"扫码签到 {time}" in lead.get(f"/activities/{a['id']}").text
    # A second sign-in by the same person says so, with the time; nothing changes.
    again = phone.follow(phone.post(url, {"participant_id": people["A-M1-T1"], "digits": "5678"})).text
    assert f"您已签到（{time}）" in again
    assert attendee(client, login, a, "A-M1-T1", runtime)["self_signed_at"] == row["self_signed_at"]
    # The organiser's record from the paper sheet keeps the time they signed in on their phone.
    r = client.put(
        f"/api/activities/{a['id']}/attendance", headers=login("lead-a"), json={"entries": [], "rest_present": True}
    )
    assert r.status_code == 200, r.text
    assert attendee(client, login, a, "A-M1-T1", runtime)["signed_at"] == row["signed_at"]


def test_扫码签到_wrong_digits_are_throttled_per_person(client, login, runtime, world, browser, with_phones):
    a, url, people = announced(client, login, runtime, world, today())
    phone = browser()
    for _ in range(PERSON_LIMIT):
        r = phone.post(url, {"participant_id": people["A-LEAD-T1"], "digits": "9999"})
        assert error(r.text, "digits") == "手机号后四位不符，请重新输入"
    # Past the limit even the right digits wait: four digits cannot be tried through.
    r = phone.post(url, {"participant_id": people["A-LEAD-T1"], "digits": "0001"})
    assert error(r.text, "digits") == "尝试次数过多，请一小时后再试，或在纸质签到表上签名"
    assert attendee(client, login, a, "A-LEAD-T1", runtime)["attendance"] == "expected"
    # Someone else on the list is not held up by it.
    assert "签到成功" in phone.follow(phone.post(url, {"participant_id": people["A-M2-T1"], "digits": "0003"})).text


def test_扫码签到_only_on_the_activity_day_while_it_is_announced(client, login, runtime, world, browser, with_phones):
    a, url, people = announced(client, login, runtime, world, today() + timedelta(days=1))
    phone = browser()
    page = phone.get(url)
    day = today() + timedelta(days=1)
    closed = f"扫码签到只在活动当天（{day.year}年{day.month}月{day.day}日）开放"
    assert page.status_code == 200 and closed in page.text and 'name="digits"' not in page.text
    refused = phone.follow(phone.post(url, {"participant_id": people["A-M1-T1"], "digits": "5678"}))
    assert closed in refused.text
    assert attendee(client, login, a, "A-M1-T1", runtime)["attendance"] == "expected"
    # A planned activity (not announced yet) takes no sign-ins either, even on its day.
    planned = create_activity(client, login, runtime, world, starts_at=on_day(today()), ends_at=None)
    with runtime.db.session() as s:
        token = s.get(Activity, uuid.UUID(planned["id"])).sign_in_token
    assert "活动计划中，不能扫码签到" in phone.get(f"/sign-in/{token}").text


def test_扫码签到_an_unknown_token_is_the_chinese_not_found_page(client, login, runtime, world, browser, with_phones):
    a, url, people = announced(client, login, runtime, world, today())
    phone = browser()
    for bad in ("/sign-in/" + "x" * 24, f"/sign-in/{a['id']}", "/sign-in/短"):
        r = phone.get(bad)
        assert r.status_code == 404 and "签到二维码无效" in r.text, bad
    r = phone.post("/sign-in/" + "x" * 24, {"participant_id": people["A-M1-T1"], "digits": "5678"})
    back = phone.follow(r)  # a refused post goes back to its page: here the not-found page
    assert back.status_code == 404 and "签到二维码无效" in back.text
    with runtime.db.session() as s:
        assert (
            s.scalar(select(Participant.self_signed_at).where(Participant.id == uuid.UUID(people["A-M1-T1"]))) is None
        )
