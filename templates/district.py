"""The district's names and the texts the service cites, written once.

The bureau is 青山湖区教育科技体育局 (区教科体局 for short) in every document, page and feed; the plan
is cited by its title and the municipal notice it rests on by its issuer and title. Every template
builder, document context and page takes these from here. It sits in ``templates`` because the
template builders, the lowest layer that prints a name, need it as much as the workflows and pages do.
"""

from __future__ import annotations

DISTRICT = "青山湖区"
BUREAU_NAME = "青山湖区教育科技体育局"
BUREAU_SHORT = "区教科体局"
PRESCHOOL_SECTION = "成幼科"
RESEARCH_OFFICE = "教研室"
# The section that reviews applications and signs for the bureau, as documents print it.
BUREAU_SECTION_NAME = f"{BUREAU_NAME}{PRESCHOOL_SECTION}"
REVIEWER = f"{BUREAU_SHORT}{PRESCHOOL_SECTION}"

PLAN_TITLE = "青山湖区1+1+N幼教联盟方案"
PLAN = f"《{PLAN_TITLE}》"
POLICY_ISSUER = "南昌市教育局"
POLICY_TITLE = "关于深入开展省市示范幼儿园结对帮扶活动的通知"
POLICY = f"{POLICY_ISSUER}《{POLICY_TITLE}》"

# 批复 are numbered 青教科体成幼批〔2026〕3号: the bureau's abbreviation, the section, the year, a serial.
DECISION_PREFIX = "青教科体成幼批"


def decision_number(year: int, serial: int) -> str:
    """The document number (文号) of a 批复."""
    return f"{DECISION_PREFIX}〔{year}〕{serial}号"
