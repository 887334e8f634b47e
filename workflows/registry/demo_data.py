"""The demo district: 青山湖区 as the policy text counts it, with fictional kindergarten names.

87 operating kindergartens = 10 district-direct (3 provincial demonstration, 青一园, 6 attached to
primary schools) + 4 operating township central + 73 private (3 provincial, 6 municipal
demonstration); the fifth township central kindergarten (京东镇) is under construction and is an
alliance pillar all the same. Five alliances. Everything is derived from fixed lists and a seeded
generator, so every load produces the same registry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from workflows.registry.credit_code import make_credit_code
from workflows.registry.models import AllianceRole, Category, KindergartenStatus, Rating, TeacherLevel

START = date(2026, 9, 1)


@dataclass(frozen=True)
class DemoKindergarten:
    code: str
    name: str
    category: Category
    rating: Rating
    town: str
    status: KindergartenStatus = KindergartenStatus.OPERATING
    alliance: str | None = None
    role: AllianceRole | None = None


@dataclass(frozen=True)
class DemoAlliance:
    code: str
    name: str
    lead: str
    pillar: str
    towns: tuple[str, ...]


@dataclass
class DemoTeacher:
    code: str
    name: str
    post: str
    level: TeacherLevel
    mentor_team: str | None = None
    birth_year: int | None = None
    phone: str | None = None


@dataclass
class DemoDistrict:
    kindergartens: list[DemoKindergarten] = field(default_factory=list)
    alliances: list[DemoAlliance] = field(default_factory=list)


DISTRICT_DIRECT = [
    ("育英幼儿园", Rating.PROVINCIAL_DEMO, "上海路街道"),
    ("启明幼儿园", Rating.PROVINCIAL_DEMO, "青山路街道"),
    ("博雅幼儿园", Rating.PROVINCIAL_DEMO, "湖坊镇"),
    ("青一幼儿园", Rating.NONE, "上海路街道"),
    ("湖滨小学附属幼儿园", Rating.NONE, "湖坊镇"),
    ("紫阳小学附属幼儿园", Rating.NONE, "青山路街道"),
    ("南钢小学附属幼儿园", Rating.NONE, "塘山镇"),
    ("塘山小学附属幼儿园", Rating.NONE, "塘山镇"),
    ("罗家小学附属幼儿园", Rating.NONE, "罗家镇"),
    ("京安小学附属幼儿园", Rating.NONE, "京东镇"),
]
TOWNSHIP_CENTRAL = ["湖坊镇", "塘山镇", "罗家镇", "扬子洲镇", "京东镇"]
UNDER_CONSTRUCTION_TOWN = "京东镇"

# (code, name, lead's index in DISTRICT_DIRECT, pillar town, towns served)
ALLIANCES = [
    ("LM01", "青山湖区第一幼教联盟", 0, "湖坊镇", ("湖坊镇", "上海路街道")),
    ("LM02", "青山湖区第二幼教联盟", 1, "塘山镇", ("塘山镇", "青山路街道")),
    ("LM03", "青山湖区第三幼教联盟", 2, "罗家镇", ("罗家镇", "南钢街道")),
    ("LM04", "青山湖区第四幼教联盟", 3, "扬子洲镇", ("扬子洲镇", "湖坊街道")),
    ("LM05", "青山湖区第五幼教联盟", 4, "京东镇", ("京东镇", "京东街道")),
]
PRIVATE_WORDS = [
    "小太阳",
    "金色童年",
    "蓓蕾",
    "七彩虹",
    "童心",
    "贝贝",
    "小天使",
    "阳光宝贝",
    "启智",
    "星星河",
    "蒲公英",
    "小橡树",
    "快乐岛",
    "新芽",
    "晨曦",
    "红缨",
    "东方剑桥",
    "爱弥儿",
    "小精灵",
    "明日之星",
]
PRIVATE_VARIANTS = ["", "双语", "艺术", "实验"]
PRIVATE_PROVINCIAL = {1, 2, 3}
PRIVATE_MUNICIPAL = {4, 5, 6, 7, 8, 9}
MEMBERS_PER_ALLIANCE = 12

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈熊"
GIVEN = [
    "静",
    "敏",
    "丽",
    "芳",
    "婷",
    "雪",
    "颖",
    "慧",
    "琳",
    "洁",
    "晶",
    "倩",
    "蕾",
    "薇",
    "欣怡",
    "思雨",
    "雅琴",
    "晓燕",
    "春梅",
    "海燕",
    "秀英",
    "佳琪",
    "梦瑶",
    "子涵",
    "若曦",
    "文静",
    "丹丹",
    "玉兰",
    "红霞",
    "建华",
]
MENTOR_TEAMS = ["健康", "语言", "社会", "科学", "艺术", "游戏"]


def district() -> DemoDistrict:
    """Build the demo registry description (no database access)."""
    result = DemoDistrict()
    for i, (name, rating, town) in enumerate(DISTRICT_DIRECT, start=1):
        result.kindergartens.append(
            DemoKindergarten(f"QD{i:02d}", f"青山湖区{name}", Category.DISTRICT_DIRECT, rating, town)
        )
    for i, town in enumerate(TOWNSHIP_CENTRAL, start=1):
        status = (
            KindergartenStatus.UNDER_CONSTRUCTION if town == UNDER_CONSTRUCTION_TOWN else KindergartenStatus.OPERATING
        )
        result.kindergartens.append(
            DemoKindergarten(f"XZ{i:02d}", f"{town}中心幼儿园", Category.TOWNSHIP_CENTRAL, Rating.NONE, town, status)
        )
    alliance_codes = [code for code, *_ in ALLIANCES]
    for i in range(1, 74):
        rating = (
            Rating.PROVINCIAL_DEMO
            if i in PRIVATE_PROVINCIAL
            else Rating.MUNICIPAL_DEMO
            if i in PRIVATE_MUNICIPAL
            else Rating.NONE
        )
        # Members 1..60 fill the five alliances in turn; 61..73 have not joined yet (they apply).
        if i <= MEMBERS_PER_ALLIANCE * len(ALLIANCES):
            a = (i - 1) % len(ALLIANCES)
            town = ALLIANCES[a][4][(i - 1) // len(ALLIANCES) % 2]
            alliance, role = alliance_codes[a], AllianceRole.MEMBER
        else:
            town = ALLIANCES[i % len(ALLIANCES)][4][i % 2]
            alliance, role = None, None
        word = PRIVATE_WORDS[(i - 1) % len(PRIVATE_WORDS)]
        variant = PRIVATE_VARIANTS[(i - 1) // len(PRIVATE_WORDS)]
        prefix = town.removesuffix("街道").removesuffix("镇")
        result.kindergartens.append(
            DemoKindergarten(
                f"MB{i:03d}",
                f"{prefix}{word}{variant}幼儿园",
                Category.PRIVATE,
                rating,
                town,
                alliance=alliance,
                role=role,
            )
        )
    by_code = {k.code: k for k in result.kindergartens}
    for code, name, lead_index, pillar_town, towns in ALLIANCES:
        lead_code = f"QD{lead_index + 1:02d}"
        pillar_code = f"XZ{TOWNSHIP_CENTRAL.index(pillar_town) + 1:02d}"
        for kg_code, role in ((lead_code, AllianceRole.LEAD), (pillar_code, AllianceRole.PILLAR)):
            k = by_code[kg_code]
            by_code[kg_code] = DemoKindergarten(k.code, k.name, k.category, k.rating, k.town, k.status, code, role)
        result.alliances.append(DemoAlliance(code, name, lead_code, pillar_code, towns))
    result.kindergartens = [by_code[k.code] for k in result.kindergartens]
    _check_unique_names(result)
    return result


def _check_unique_names(result: DemoDistrict) -> None:
    names = [k.name for k in result.kindergartens]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise AssertionError(f"demo names repeat: {sorted(duplicates)}")


def credit_code(index: int, category: Category) -> str:
    """A valid (check digit included) but fictional 统一社会信用代码."""
    prefix = {"private": "52", "district_direct": "12", "township_central": "12"}[category.value]
    org = f"{(index * 7919 + 13) % 10**8:08d}"
    return make_credit_code(f"{prefix}360111M{org}")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def teachers(kindergarten_code: str, rng: random.Random) -> list[DemoTeacher]:
    """园长, 业务园长 and 3–6 teachers of mixed levels for one kindergarten."""
    staff = [
        DemoTeacher(f"{kindergarten_code}-T01", person_name(rng), "园长", TeacherLevel.LEADER),
        DemoTeacher(f"{kindergarten_code}-T02", person_name(rng), "业务园长", TeacherLevel.BACKBONE),
    ]
    levels = [TeacherLevel.NEW, TeacherLevel.YOUNG, TeacherLevel.YOUNG, TeacherLevel.BACKBONE, TeacherLevel.LEADER]
    for n in range(3, 3 + 3 + rng.randrange(4)):
        level = levels[(n + len(kindergarten_code)) % len(levels)]
        team = (
            rng.choice(MENTOR_TEAMS)
            if level in (TeacherLevel.BACKBONE, TeacherLevel.LEADER) and rng.random() < 0.3
            else None
        )
        staff.append(DemoTeacher(f"{kindergarten_code}-T{n:02d}", person_name(rng), "教师", level, team))
    for n, teacher in enumerate(staff, start=1):
        # From the codes, not the generator, so every other demo value stays as it was.
        teacher.birth_year = BIRTH_YEARS[teacher.level] + (n * 7 + sum(map(ord, kindergarten_code))) % 8
        teacher.phone = f"13970{'QXM'.index(kindergarten_code[0])}{int(kindergarten_code[2:]):03d}{n:02d}"
    return staff


# The first of eight birth years a demo teacher of each level may have.
BIRTH_YEARS = {
    TeacherLevel.NEW: 1998,
    TeacherLevel.YOUNG: 1990,
    TeacherLevel.BACKBONE: 1980,
    TeacherLevel.LEADER: 1970,
}
