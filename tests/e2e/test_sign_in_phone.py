"""扫码签到 on a phone: the page the sign-in sheet's QR code opens, at 360 px, without signing in."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from tests.e2e.conftest import LiveServer
from tests.fixtures.activities import SEMESTER, create_activity, fire, teacher_ids, today
from tests.fixtures.app import PASSWORD
from workflows.activities.models import Activity
from workflows.activities.semesters import ensure_semester
from workflows.registry.models import Teacher


def test_a_teacher_signs_in_on_a_phone_at_360_px(person, live_server: LiveServer) -> None:
    runtime, world = live_server.runtime, live_server.world
    with runtime.db.session() as s:
        ensure_semester(
            session=s, code=SEMESTER, starts_on=today() - timedelta(days=60), ends_on=today() + timedelta(days=60)
        )
        teacher = s.scalars(select(Teacher).where(Teacher.code == "A-M1-T1")).one()
        teacher.phone, name = "13912345678", teacher.name
    with httpx.Client(base_url=live_server.url) as client:
        tokens: dict[str, dict[str, str]] = {}

        def login(username: str) -> dict[str, str]:
            if username not in tokens:
                r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
                tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            return tokens[username]

        start = datetime.combine(today(), datetime.min.time()).replace(hour=9).isoformat()
        a = create_activity(
            client, login, runtime, world, starts_at=start, ends_at=None,  # type: ignore[arg-type]
            participant_teacher_ids=teacher_ids(runtime, "A-LEAD-T1", "A-M1-T1", "A-M2-T1"),
        )  # fmt: skip
        assert fire(client, login("lead-a"), a, "announce").status_code == 200  # type: ignore[arg-type]
    with runtime.db.session() as s:
        token = s.get(Activity, uuid.UUID(a["id"])).sign_in_token  # type: ignore[union-attr]

    phone = person()
    page = phone.open(f"/sign-in/{token}")
    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_label("您的姓名").select_option(label=f"{name}（{world.kindergartens['A-M1'].name}）")
    page.get_by_label("手机号后四位").fill("0000")
    page.get_by_role("button", name="签到").click()
    page.wait_for_selector("#err-digits:has-text('手机号后四位不符')")
    phone.screenshot("sign-in-phone-refused")
    page.get_by_label("手机号后四位").fill("5678")
    page.get_by_role("button", name="签到").click()
    page.wait_for_selector(".flash:has-text('签到成功')")
    phone.screenshot("sign-in-phone-done")
