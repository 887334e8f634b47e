"""Plain helpers shared by tests (no fixtures)."""

from __future__ import annotations

from typing import Any


def form_complete(credit_code: str) -> dict[str, Any]:
    """A complete, eligible application form."""
    return {
        "name": "模型测试幼儿园",
        "credit_code": credit_code,
        "licence_no": "教民360111000001",
        "licence_issued_on": "2018-05-01",
        "sponsor": "举办者",
        "legal_representative": "法人",
        "head_name": "园长",
        "head_phone": "13800000000",
        "contact_name": "联系人",
        "contact_phone": "13900000000",
        "address": "罗家镇 1 号",
        "town": "罗家镇",
        "ownership": "nonprofit",
        "inclusive": True,
        "classes": 4,
        "children": 100,
        "staff": 20,
        "teachers": 10,
        "certified_teachers": 9,
        "site_area_m2": 1000,
        "building_area_m2": 800,
        "last_inspection_year": 2025,
        "last_inspection_result": "passed",
        "penalties_last_3_years": 0,
        "safety_incidents_last_3_years": 0,
        "reasons": "加入联盟",
        "needs": ["课程"],
        "commitments_accepted": True,
    }
