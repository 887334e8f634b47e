"""One clock: instants in UTC, every day a person reads in Beijing time — also between 00:00 and 08:00
Beijing, when the UTC date is still yesterday."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from docx import Document as WordDocument

from api.web.rendering import TEMPLATES, local_time
from templates.docx import render_docx
from tests.api.test_applications import FORM
from workflows import clock
from workflows.applications.documents import TEMPLATE, form_context
from workflows.certificates.documents import certificate_context

# 2026-12-04 23:30 UTC is 2026-12-05 07:30 in Beijing.
LATE_UTC = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


def test_today_is_the_beijing_day_around_midnight_utc() -> None:
    with clock.travel(datetime(2026, 12, 4, 15, 59, 59, tzinfo=UTC)):
        assert clock.today() == date(2026, 12, 4)  # 23:59:59 in Beijing
    with clock.travel(datetime(2026, 12, 4, 16, 0, tzinfo=UTC)):
        assert clock.today() == date(2026, 12, 5)  # midnight in Beijing, still the 4th in UTC
    with clock.travel(LATE_UTC) as moment:
        assert clock.now() == moment == LATE_UTC and clock.now().tzinfo is UTC
        assert clock.today() == date(2026, 12, 5)
        assert clock.now().date() == date(2026, 12, 4)  # what the bug printed
    assert clock.now() > LATE_UTC - timedelta(days=3650)  # back to the real clock


def test_a_monkeypatched_now_moves_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: LATE_UTC)
    assert clock.today() == date(2026, 12, 5)


def test_travel_takes_any_zone_and_answers_in_utc() -> None:
    new_york = timezone(timedelta(hours=-5))
    with clock.travel(datetime(2026, 12, 4, 18, 30, tzinfo=new_york)):
        assert clock.now() == LATE_UTC and clock.now().utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        clock.beijing(datetime(2026, 12, 4, 23, 30))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"), clock.travel(datetime(2026, 12, 4)):  # noqa: DTZ001
        pass


def test_formats_print_beijing_time() -> None:
    assert clock.chinese_date(LATE_UTC) == "2026年12月5日"
    assert clock.chinese_date(date(2026, 1, 9)) == "2026年1月9日"
    assert clock.day_of(LATE_UTC) == date(2026, 12, 5)
    assert clock.minute(LATE_UTC) == "2026-12-05 07:30"
    assert clock.second(LATE_UTC) == "2026-12-05 07:30:00"
    assert clock.minute(None) == clock.second(None) == ""
    assert str(clock.BEIJING) == "Asia/Shanghai"


def test_the_pages_date_filter_shows_beijing_time() -> None:
    assert local_time(LATE_UTC) == "2026-12-05 07:30"
    assert local_time(LATE_UTC, "%Y-%m-%d") == "2026-12-05"
    assert local_time(date(2026, 12, 5)) == "2026-12-05" and local_time(None) == ""
    template = TEMPLATES.env.from_string("{{ at | local_time('%Y-%m-%d') }}")
    assert template.render(at=LATE_UTC) == "2026-12-05"


@dataclass
class _Application:
    """An application as ``form_context`` reads it."""

    submitted_at: datetime | None
    number: str = "SQ2026-0001"
    form: dict[str, Any] = field(default_factory=lambda: dict(FORM))
    eligibility: list[dict[str, Any]] = field(default_factory=list)
    current_attachments: list[Any] = field(default_factory=list)


def _footer(context: dict[str, Any]) -> str:
    document = WordDocument(io.BytesIO(render_docx(TEMPLATE, context)))
    return "\n".join(p.text for p in document.sections[0].footer.paragraphs)


def test_the_申请表_footer_prints_the_beijing_date_of_submission() -> None:
    assert "preferred_alliance_id" not in FORM  # no session needed
    context = form_context(None, _Application(submitted_at=LATE_UTC), 1)  # type: ignore[arg-type]
    assert context["generated_on"] == context["submitted_on"] == "2026年12月5日"
    footer = _footer(context)
    assert "生成日期：2026年12月5日" in footer, footer
    assert "2026-12-04" not in footer and "12月4日" not in footer


def test_a_draft_申请表_is_dated_today_in_beijing() -> None:
    with clock.travel(LATE_UTC):
        context = form_context(None, _Application(submitted_at=None), 1)  # type: ignore[arg-type]
    assert (context["generated_on"], context["submitted_on"]) == ("2026年12月5日", "")


def test_a_certificate_issued_before_8_am_beijing_carries_that_day() -> None:
    @dataclass
    class _Certificate:
        issued_at: datetime
        held_on: date = date(2026, 12, 4)
        teacher_name: str = "王老师"
        kindergarten_name: str = "阳光幼儿园"
        alliance_name: str = "测试联盟A"
        topic: str = "游戏观察"
        kind: str = "lecture"
        number: str = "ZS2026-0001"
        verification_code: str = "ABCDEFGHJKLM"

    context = certificate_context(_Certificate(issued_at=LATE_UTC), verify_url="https://x/verify")  # type: ignore[arg-type]
    assert (context["held_on"], context["issued_on"]) == ("2026年12月4日", "2026年12月5日")
