"""The fixed vocabulary of semester work and activities: domains, formats, material categories.

Centralised research activities (集中研讨活动): the policy asks each alliance for at least two per
semester; which activities count is decided by the research done, not the format (see ``counting``).
"""

from __future__ import annotations

from enum import StrEnum

# 《3-6岁儿童学习与发展指南》 domains plus 游戏, the local mentor-team category.
DOMAINS = ("健康", "语言", "社会", "科学", "艺术", "游戏")
# The plan's floor: 「每学期集中研讨活动不少于2次」. A semester or a scheme may ask more, never less.
MIN_CENTRALISED = 2
FORMATS = ("集中研讨", "公开课", "讲座", "送教", "观摩", "跟岗", "线上")


SEASON_LABELS = {"spring": "春季", "autumn": "秋季"}


def semester_name(code: str) -> str:
    """``2026-autumn`` (URLs, the API) → 2026年秋季学期 (what people read)."""
    year, season = code.split("-")
    return f"{year}年{SEASON_LABELS[season]}学期"


class MaterialCategory(StrEnum):
    SIGN_IN = "sign_in"
    LESSON_PLAN = "lesson_plan"
    REFLECTION = "reflection"
    LESSON_CASE = "lesson_case"
    DISCUSSION = "discussion"
    MEDIA = "media"
    REPORT = "report"


CATEGORY_LABELS = {
    MaterialCategory.SIGN_IN: "签到表",
    MaterialCategory.LESSON_PLAN: "教案",
    MaterialCategory.REFLECTION: "反思",
    MaterialCategory.LESSON_CASE: "课例",
    MaterialCategory.DISCUSSION: "研讨记录",
    MaterialCategory.MEDIA: "影像资料",
    MaterialCategory.REPORT: "活动报道",
}
# The bundle's folders, in this order: 01_签到表 … 07_活动报道.
CATEGORY_FOLDERS = {c: f"{n:02d}_{CATEGORY_LABELS[c]}" for n, c in enumerate(MaterialCategory, start=1)}


class Attendance(StrEnum):
    EXPECTED = "expected"
    PRESENT = "present"
    LATE = "late"
    LEAVE = "leave"
    ABSENT = "absent"


ATTENDANCE_LABELS = {
    Attendance.EXPECTED: "",
    Attendance.PRESENT: "出席",
    Attendance.LATE: "迟到",
    Attendance.LEAVE: "请假",
    Attendance.ABSENT: "缺席",
}
# Attending (present or late) earns the activity's hours; leave and absence earn none.
ATTENDED = frozenset({Attendance.PRESENT, Attendance.LATE})


class ParticipantRole(StrEnum):
    PRESENTER = "presenter"
    PARTICIPANT = "participant"
    # 指导: the district researcher (教研员深入各联盟) or a mentor of the mentor teams, not the alliance's own.
    GUIDANCE = "guidance"


PARTICIPANT_ROLE_LABELS = {
    ParticipantRole.PRESENTER: "主讲/执教",
    ParticipantRole.PARTICIPANT: "参加",
    ParticipantRole.GUIDANCE: "指导",
}
# Where a researcher's guidance row says they come from (a researcher has no kindergarten).
RESEARCH_OFFICE = "区教研室"
# A kindergarten's place in its alliance, as the sign-in sheet prints it.
ALLIANCE_ROLE_SHORT = {"lead": "龙头", "pillar": "支柱", "member": "成员"}


class WorkKind(StrEnum):
    PLAN = "plan"
    SUMMARY = "summary"


WORK_LABELS = {WorkKind.PLAN: "联盟互动计划", WorkKind.SUMMARY: "教研经验小结"}


class WorkStatus(StrEnum):
    MISSING = "missing"
    ON_TIME = "on_time"
    LATE = "late"


WORK_STATUS_LABELS = {WorkStatus.MISSING: "未提交", WorkStatus.ON_TIME: "按时提交", WorkStatus.LATE: "逾期提交"}
