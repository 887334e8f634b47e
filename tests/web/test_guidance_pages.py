"""教研员深入各联盟: the researcher and mentors recorded at an activity as 指导, not only the alliance's
teachers; the researcher's visits per alliance and semester on the dashboards (「分批全程跟踪推进」)."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from tests.fixtures.activities import SEMESTER, create_activity, fire, record_all, teacher_ids
from workflows.activities.models import Activity, Participant
from workflows.mentors.models import Mentor, MentorNomination
from workflows.registry.models import Teacher


def _mentor(runtime, world, code: str) -> str:
    """An appointed mentor: the teacher ``code`` (of any alliance)."""
    with runtime.db.session() as s:
        teacher = s.scalar(select(Teacher).where(Teacher.code == code))
        nomination = MentorNomination(number=f"TJ-{code}", teacher_id=teacher.id, kindergarten_id=teacher.kindergarten_id,
                                      team="语言", state="appointed", nominated_by=world.users["officer"].id)  # fmt: skip
        s.add(nomination)
        s.flush()
        mentor = Mentor(number=f"DS-{code}", nomination_id=nomination.id, teacher_id=teacher.id,
                        kindergarten_id=teacher.kindergarten_id, team="语言", term_start=date(2026, 1, 1),
                        term_end=date(2028, 12, 31))  # fmt: skip
        s.add(mentor)
        s.flush()
        return str(mentor.id)


@pytest.fixture
def announced(client, runtime, world, semester, login):
    """An activity of alliance A, two days ago, announced (with the section's leave) and ready for attendance."""
    activity = create_activity(client, login, runtime, world)
    r = fire(client, login("lead-a"), activity, "announce")
    assert r.status_code == 200, r.text
    return f"/activities/{activity['id']}", r.json()


def test_the_researcher_is_recorded_as_指导_教研员深入各联盟(browser, runtime, world, announced):
    url, _ = announced
    lead = browser("lead-a")
    researcher = world.users["researcher"]
    page = lead.get(url).text
    assert "登记到场指导（教研员、导师）" in page and f'value="researcher:{researcher.id}"' in page
    r = lead.post(f"{url}/guidance", {"guide": f"researcher:{researcher.id}", "attendance": "present"})
    assert r.status_code == 303, r.text
    page = lead.follow(r).text
    assert "已登记researcher到场指导" in page
    assert re.search(r"<strong>researcher</strong> <span class=\"tag\">指导</span>", page)
    assert "区教研室" in page
    assert f'value="researcher:{researcher.id}"' not in page  # recorded once
    # Twice is refused next to the picker.
    again = lead.post(f"{url}/guidance", {"guide": f"researcher:{researcher.id}"})
    assert again.status_code == 200 and "researcher已登记" in again.text
    assert '<details class="walk-in" id="guidance" open>' in again.text
    with runtime.db.session() as s:
        row = s.scalar(select(Participant).where(Participant.user_id == researcher.id))
        assert row.role == "guidance" and row.attendance == "present" and row.teacher_id is None


def test_a_mentor_of_another_alliance_is_recorded_as_指导_not_as_a_walk_in(browser, runtime, world, announced):
    url, _ = announced
    mentor = _mentor(runtime, world, "B-M1-T1")  # B-M1 is not in alliance A: no walk-in, but 指导
    lead = browser("lead-a")
    assert f'value="mentor:{mentor}"' in lead.get(url).text
    r = lead.post(f"{url}/guidance", {"guide": f"mentor:{mentor}", "attendance": "late"})
    assert r.status_code == 303, r.text
    page = lead.get(url).text
    assert "B-M1业务" in page and "指导" in page
    with runtime.db.session() as s:
        row = s.scalar(
            select(Participant).where(Participant.teacher_id == uuid.UUID(teacher_ids(runtime, "B-M1-T1")[0]))
        )
        assert row.role == "guidance" and row.attendance == "late"


def test_only_the_lead_the_host_or_the_researcher_herself_records_指导(browser, runtime, world, announced):
    url, _ = announced
    researcher = world.users["researcher"]
    nobody = browser("lead-a").post(f"{url}/guidance", {"guide": ""})
    assert nobody.status_code == 200 and "请选择一位教研员或导师" in nobody.text
    member = browser("kg-a2")  # a member kindergarten that does not host
    assert "登记到场指导" not in member.get(url).text
    refused = member.post(f"{url}/guidance", {"guide": f"researcher:{researcher.id}"})
    assert (
        refused.status_code == 303 and "只有龙头园、承办园或教研员本人可以登记指导人员" in member.follow(refused).text
    )
    # The researcher records her own visit with one button, and nobody else's.
    own = browser("researcher")
    assert "登记本人到场指导" in own.get(url).text
    mentor = _mentor(runtime, world, "A-M1-T1")
    refused = own.post(f"{url}/guidance", {"guide": f"mentor:{mentor}"})
    assert refused.status_code == 303 and "可以登记指导人员" in own.follow(refused).text
    assert own.post(f"{url}/guidance", {"guide": f"researcher:{researcher.id}"}).status_code == 303
    assert "登记本人到场指导" not in own.get(url).text


def test_the_researchers_visits_per_alliance_and_semester_on_the_dashboard_分批全程跟踪推进(
    client, browser, runtime, world, announced, login
):
    url, activity = announced
    lead = browser("lead-a")
    researcher = world.users["researcher"]
    assert lead.post(f"{url}/guidance", {"guide": f"researcher:{researcher.id}"}).status_code == 303
    assert record_all(client, login("lead-a"), activity).status_code == 200
    current = client.get(f"/api/activities/{activity['id']}", headers=login("lead-a")).json()
    assert fire(client, login("lead-a"), current, "hold").status_code == 200
    year = SEMESTER.split("-")[0]
    board = browser("officer").get(f"/dashboards?year={year}").text
    section = board.split('id="researcher-visits"')[1].split("</section>")[0]
    assert "教研员深入各联盟" in board and "2026年秋季学期" in section
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>(.*?)</tr>", section, re.S)
    visits = dict(rows)
    alliance_a = world.alliances["A"].name
    assert "1 次" in visits[alliance_a] and "researcher" in visits[alliance_a]
    assert all("0 次" in cells for name, cells in visits.items() if name != alliance_a)
    alliance = browser("lead-a").get(f"/dashboards?year={year}").text
    assert "教研员深入指导" in alliance and "1 次活动（researcher）" in alliance
    # The guidance is not the alliance's attendance: expected and attended count its own teachers only.
    with runtime.db.session() as s:
        a = s.get(Activity, uuid.UUID(activity["id"]))
        own = [p for p in a.participants if p.role != "guidance"]
    assert f"应到 {len(own)} · 实到 {len(own)}" in alliance
