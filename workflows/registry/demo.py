"""Loading the demo district and its accounts; run by ``make run``, idempotent."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.settings import Settings
from workflows import audit
from workflows.accounts.models import User
from workflows.accounts.passwords import hash_password
from workflows.activities.semesters import ensure_semester
from workflows.agreements.demo import load_signing_demo
from workflows.registry import demo_data
from workflows.registry.models import Alliance, Kindergarten, Membership, Section, Teacher
from workflows.roles import Role

DEMO_PASSWORD = "demo-2026"
SECTIONS = [("chengyou", "成幼科"), ("jiaoyan", "教研室"), ("xinxi", "信息中心")]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    display_name: str


@dataclass(frozen=True)
class DemoReport:
    created: bool
    kindergartens: int
    alliances: int
    accounts: list[DemoAccount]
    warnings: tuple[str, ...] = ()


def load_demo(*, session: Session, settings: Settings) -> DemoReport:
    """Create the demo district once; a second call only reports what is there."""
    ensure_semester(session=session, code="2026-autumn", starts_on=demo_data.START, ends_on=date(2027, 1, 20))
    if session.scalar(select(func.count()).select_from(Kindergarten)):
        # Seals a missing font kept from being drawn last time are drawn now, if the font is there.
        signing = load_signing_demo(session=session, settings=settings)
        _fill_service_areas(session)
        return DemoReport(
            False,
            _count(session, Kindergarten),
            _count(session, Alliance),
            _existing_accounts(session),
            warnings=(signing.missing,) if signing.missing else (),
        )
    district = demo_data.district()
    rng = random.Random(20260901)
    sections = {code: Section(code=code, name=name) for code, name in SECTIONS}
    session.add_all(sections.values())
    kindergartens: dict[str, Kindergarten] = {}
    for index, d in enumerate(district.kindergartens, start=1):
        head = demo_data.person_name(rng)
        k = Kindergarten(
            code=d.code,
            name=d.name,
            credit_code=demo_data.credit_code(index, d.category),
            licence_no=f"教民{360111}{index:05d}" if d.category.value == "private" else None,
            licence_issued_on=demo_data.START.replace(year=2010 + index % 14, month=1 + index % 12, day=1 + index % 28),
            category=d.category,
            rating=d.rating,
            status=d.status,
            town=d.town,
            address=f"南昌市青山湖区{d.town}{rng.choice(['民强路', '湖滨东路', '青山南路', '尤氏路', '昌东大道'])}{rng.randint(1, 999)}号",
            head_name=head,
            head_phone=demo_data.phone(rng),
            contact_name=demo_data.person_name(rng),
            contact_phone=demo_data.phone(rng),
        )
        kindergartens[d.code] = k
        for t in demo_data.teachers(d.code, rng):
            k.teachers.append(
                Teacher(
                    code=t.code,
                    name=t.name,
                    post=t.post,
                    level=t.level,
                    mentor_team=t.mentor_team,
                    birth_year=t.birth_year,
                    phone=t.phone,
                )
            )
    session.add_all(kindergartens.values())
    # Each alliance serves the towns its pillar and members sit in (demo_data.ALLIANCES).
    alliances = {a.code: Alliance(code=a.code, name=a.name, service_area=list(a.towns)) for a in district.alliances}
    session.add_all(alliances.values())
    for d in district.kindergartens:
        if d.alliance and d.role:
            session.add(
                Membership(
                    alliance=alliances[d.alliance],
                    kindergarten=kindergartens[d.code],
                    role=d.role,
                    started_on=demo_data.START,
                )
            )
    session.flush()

    specs = _account_specs(district, kindergartens, sections)
    # argon2id is deliberately slow; hash in two threads (the C code releases the GIL).
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = list(pool.map(lambda _: hash_password(settings, DEMO_PASSWORD), specs))
    for (account, kindergarten, section), password_hash in zip(specs, hashes, strict=True):
        session.add(
            User(
                username=account.username,
                display_name=account.display_name,
                password_hash=password_hash,
                role=account.role,
                kindergarten_id=kindergarten.id if kindergarten else None,
                section_id=section.id if section else None,
                is_demo=True,
            )
        )
    session.flush()
    # Specimen seals (样章), the signing CA and the demo signers' keys (PIN 135790) for agreements.
    signing = load_signing_demo(session=session, settings=settings)
    audit.append(
        session,
        entity_type="registry",
        entity_id="demo",
        event="demo_loaded",
        actor=audit.SYSTEM_ACTOR,
        data={"kindergartens": len(kindergartens), "alliances": len(alliances), "accounts": len(specs)},
    )
    return DemoReport(
        True,
        len(kindergartens),
        len(alliances),
        [s[0] for s in specs],
        warnings=(signing.missing,) if signing.missing else (),
    )


def _account_specs(
    district: demo_data.DemoDistrict, kindergartens: dict[str, Kindergarten], sections: dict[str, Section]
) -> list[tuple[DemoAccount, Kindergarten | None, Section | None]]:
    specs: list[tuple[DemoAccount, Kindergarten | None, Section | None]] = [
        (DemoAccount("admin", Role.ADMIN, "系统管理员"), None, sections["xinxi"]),
        (DemoAccount("officer", Role.OFFICER, "成幼科 科员"), None, sections["chengyou"]),
        (DemoAccount("researcher", Role.RESEARCHER, "幼教教研员"), None, sections["jiaoyan"]),
    ]
    for n, alliance in enumerate(district.alliances, start=1):
        lead, pillar = kindergartens[alliance.lead], kindergartens[alliance.pillar]
        specs.append((DemoAccount(f"lead{n}", Role.LEAD, lead.name), lead, None))
        specs.append((DemoAccount(f"pillar{n}", Role.PILLAR, pillar.name), pillar, None))
    private = sorted((k for k in kindergartens.values() if k.category.value == "private"), key=lambda k: k.code)
    for n, k in enumerate(private, start=1):
        specs.append((DemoAccount(f"kg{n:03d}", Role.APPLICANT, k.name), k, None))
    return specs


def _fill_service_areas(session: Session) -> None:
    """A demo district loaded before alliances had service areas gets them: an alliance with an empty
    area gets the demo towns, one the office has set is left as it is."""
    towns = {a.code: list(a.towns) for a in demo_data.district().alliances}
    for alliance in session.scalars(select(Alliance).where(Alliance.code.in_(list(towns)))):
        if not alliance.service_area:
            alliance.service_area = towns[alliance.code]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _existing_accounts(session: Session) -> list[DemoAccount]:
    users = session.scalars(select(User).where(User.is_demo).order_by(User.created_at, User.username))
    return [DemoAccount(u.username, u.role, u.display_name) for u in users]
