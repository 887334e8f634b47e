"""Which activities count towards the semester's minimum (「每学期集中研讨活动不少于2次」).

The plan asks for centralised research activities (集中研讨活动). What makes one is the research, not the
format: an activity counts when it took place with a topic and its discussion record (研讨记录) is on file,
whatever its format — a 公开课 followed by 评课研讨 counts, a lecture nobody discussed does not. One rule,
read by the compliance page, the dashboards and the annual evaluation alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflows.activities.machine import TOOK_PLACE
from workflows.activities.vocabulary import MaterialCategory

NOT_YET = {"planned": "尚未举行", "announced": "已通报，尚未举行", "cancelled": "已取消"}


@dataclass(frozen=True)
class Counting:
    counts: bool
    reason: str


def counting(*, state: str, topic: str, categories: Iterable[str]) -> Counting:
    """Whether an activity counts towards the minimum, and why (in words the lead reads)."""
    if state not in TOOK_PLACE:
        return Counting(False, f"{NOT_YET.get(state, '尚未举行')}，不计入")
    if not topic.strip():
        return Counting(False, "未填写研讨主题，不计入")
    if MaterialCategory.DISCUSSION.value not in set(categories):
        return Counting(False, "尚无研讨记录，不计入（仅有讲授而无研讨的活动不算集中研讨）")
    return Counting(True, "已举行，有研讨主题和研讨记录，计入")
