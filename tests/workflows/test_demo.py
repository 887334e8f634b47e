"""The demo district matches the policy text's counts, and loading it twice creates nothing twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from workflows.accounts.models import User
from workflows.accounts.passwords import verify_password
from workflows.registry.composition import fits
from workflows.registry.credit_code import credit_code_problem
from workflows.registry.demo import DEMO_PASSWORD, load_demo
from workflows.registry.models import Alliance, Kindergarten, KindergartenStatus, Rating, Teacher
from workflows.roles import Role


def test_demo_district_counts_and_idempotence(runtime):
    with runtime.db.session() as s:
        first = load_demo(session=s, settings=runtime.settings)
    with runtime.db.session() as s:
        second = load_demo(session=s, settings=runtime.settings)
    assert first.created and not second.created
    with runtime.db.session() as s:
        kgs = list(s.scalars(select(Kindergarten)))
        assert len(kgs) == 88
        operating = [k for k in kgs if k.status == KindergartenStatus.OPERATING]
        assert len(operating) == 87
        by_category = Counter(k.category.value for k in operating)
        assert by_category == {"district_direct": 10, "township_central": 4, "private": 73}
        private_ratings = Counter(k.rating for k in operating if k.category.value == "private")
        assert private_ratings[Rating.PROVINCIAL_DEMO] == 3 and private_ratings[Rating.MUNICIPAL_DEMO] == 6
        direct_ratings = Counter(k.rating for k in operating if k.category.value == "district_direct")
        assert direct_ratings[Rating.PROVINCIAL_DEMO] == 3
        assert any(k.name.endswith("青一幼儿园") for k in kgs)
        assert sum("小学附属" in k.name for k in kgs) == 6
        building = [k for k in kgs if k.status == KindergartenStatus.UNDER_CONSTRUCTION]
        assert [k.town for k in building] == ["京东镇"]
        assert all(credit_code_problem(k.credit_code) is None for k in kgs)

        alliances = list(s.scalars(select(Alliance).order_by(Alliance.code)))
        assert len(alliances) == 5
        for a in alliances:
            assert a.lead is not None and a.pillar is not None and a.members
            assert a.pillar.category.value == "township_central"
            # 1+1+N as the plan sets it, and a service area that holds the pillar's and members' towns.
            assert all(fits(m.role, m.kindergarten.category, m.kindergarten.rating) for m in a.current_memberships)
            assert {a.pillar.town, *(k.town for k in a.members)} <= set(a.service_area)
        served = [town for a in alliances for town in a.service_area]
        assert len(served) == len(set(served)), "a town is served by one alliance"
        # Every private kindergarten still outside an alliance lives in a town some alliance serves.
        assert {k.town for k in kgs if k.category.value == "private" and k.current_membership is None} <= set(served)
        assert any(a.pillar.status == KindergartenStatus.UNDER_CONSTRUCTION for a in alliances)

        teachers = Counter(t.kindergarten_id for t in s.scalars(select(Teacher)))
        assert all(teachers[k.id] >= 5 for k in kgs)

        users = {u.username: u for u in s.scalars(select(User))}
        expected = (
            {"admin", "officer", "researcher"}
            | {f"lead{i}" for i in range(1, 6)}
            | {f"pillar{i}" for i in range(1, 6)}
            | {f"kg{i:03d}" for i in range(1, 74)}
        )
        assert set(users) == expected
        assert users["kg001"].role == Role.APPLICANT and users["lead3"].role == Role.LEAD
        assert verify_password(runtime.settings, users["kg073"].password_hash, DEMO_PASSWORD)
        assert s.scalar(select(func.count()).select_from(User)) == len(expected)
