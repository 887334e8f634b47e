"""Who a user is to the workflows: the roles, their Chinese names and the two sides they fall on.

A core module (no models, no imports): the state machine, access checks and notifications read roles
without depending on the accounts area. ``workflows.accounts.models`` re-exports these names.
"""

from __future__ import annotations

import enum

__all__ = ["BUREAU_ROLES", "KINDERGARTEN_ROLES", "ROLE_LABELS", "Role"]


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    LEAD = "lead"
    PILLAR = "pillar"
    OFFICER = "officer"
    RESEARCHER = "researcher"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.APPLICANT: "民办园",
    Role.LEAD: "龙头园",
    Role.PILLAR: "乡镇中心园",
    Role.OFFICER: "成幼科",
    Role.RESEARCHER: "教研室",
    Role.ADMIN: "系统管理员",
}
KINDERGARTEN_ROLES = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR})
BUREAU_ROLES = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
