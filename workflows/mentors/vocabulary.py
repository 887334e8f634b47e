"""The fixed vocabulary of the mentor teams (幼教导师团): teams, qualifications, guidance, decisions."""

from __future__ import annotations

from enum import StrEnum

from workflows.activities.vocabulary import DOMAINS

# Six teams: the five domains of 《3-6岁儿童学习与发展指南》 plus 游戏 (policy §三(3)2).
TEAMS = DOMAINS
TEAM_LABELS = {team: f"{team}导师团" for team in TEAMS}


class Qualification(StrEnum):
    BACKBONE = "backbone"
    LEADER = "leader"
    RESEARCH_MEMBER = "research_member"


QUALIFICATION_LABELS = {
    Qualification.BACKBONE: "骨干教师",
    Qualification.LEADER: "学科带头人",
    Qualification.RESEARCH_MEMBER: "课题组成员",
}


class GuidanceKind(StrEnum):
    LECTURE = "lecture"
    OUTREACH = "outreach"
    PLAN_REVIEW = "plan_review"
    RESEARCH_GUIDANCE = "research_guidance"


GUIDANCE_LABELS = {
    GuidanceKind.LECTURE: "讲座",
    GuidanceKind.OUTREACH: "送教",
    GuidanceKind.PLAN_REVIEW: "参与制定计划",
    GuidanceKind.RESEARCH_GUIDANCE: "指导研讨",
}


class ReviewDecision(StrEnum):
    KEEP = "keep"
    ROTATE = "rotate"
    RETIRE = "retire"


DECISION_LABELS = {ReviewDecision.KEEP: "留任", ReviewDecision.ROTATE: "轮换", ReviewDecision.RETIRE: "退出"}
