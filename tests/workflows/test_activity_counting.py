"""Which activities count towards 「每学期集中研讨活动不少于2次」: held, with a topic and its 研讨记录 on file,
whatever the format (pure function, no I/O)."""

from __future__ import annotations

import pytest

from workflows.activities.counting import counting
from workflows.activities.vocabulary import MaterialCategory

EVERYTHING_BUT_THE_RECORD = [c.value for c in MaterialCategory if c != MaterialCategory.DISCUSSION]


def test_a_lecture_without_研讨记录_does_not_count():
    lecture = counting(state="archived", topic="幼儿园游戏精神的理解", categories=EVERYTHING_BUT_THE_RECORD)
    assert lecture.counts is False
    assert lecture.reason == "尚无研讨记录，不计入（仅有讲授而无研讨的活动不算集中研讨）"


@pytest.mark.parametrize("state", ["held", "archived"])
def test_an_activity_held_with_its_研讨记录_counts_whatever_its_format(state):
    # The format is not an argument at all: a 送教 or a 讲座 followed by discussion counts like a 集中研讨.
    held = counting(state=state, topic="户外自主游戏中的观察", categories=["discussion"])
    assert (held.counts, held.reason) == (True, "已举行，有研讨主题和研讨记录，计入")


@pytest.mark.parametrize(
    ("state", "topic", "reason"),
    [
        ("planned", "主题", "尚未举行，不计入"),
        ("announced", "主题", "已通报，尚未举行，不计入"),
        ("cancelled", "主题", "已取消，不计入"),
        ("held", "  ", "未填写研讨主题，不计入"),
    ],
)
def test_an_activity_not_held_or_without_a_topic_does_not_count(state, topic, reason):
    result = counting(state=state, topic=topic, categories=["discussion"])
    assert (result.counts, result.reason) == (False, reason)
