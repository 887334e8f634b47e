"""The district registry: bureau sections, kindergartens, alliances and their memberships, teachers."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.objects_index import object_key_column


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the value (a stable English key) and use a CHECK constraint rather than a native type,
    # so SQLite and PostgreSQL hold the same thing and migrations stay simple.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e], length=32)


class Category(enum.StrEnum):
    DISTRICT_DIRECT = "district_direct"
    TOWNSHIP_CENTRAL = "township_central"
    PRIVATE = "private"


class Rating(enum.StrEnum):
    NONE = "none"
    PROVINCIAL_DEMO = "provincial_demo"
    MUNICIPAL_DEMO = "municipal_demo"


class KindergartenStatus(enum.StrEnum):
    OPERATING = "operating"
    UNDER_CONSTRUCTION = "under_construction"
    CLOSED = "closed"


class AllianceRole(enum.StrEnum):
    LEAD = "lead"
    PILLAR = "pillar"
    MEMBER = "member"


class TeacherLevel(enum.StrEnum):
    NEW = "new"
    YOUNG = "young"
    BACKBONE = "backbone"
    LEADER = "leader"


CATEGORY_LABELS = {
    Category.DISTRICT_DIRECT: "区直属",
    Category.TOWNSHIP_CENTRAL: "乡镇中心园",
    Category.PRIVATE: "民办及企事业办园",
}
RATING_LABELS = {Rating.NONE: "", Rating.PROVINCIAL_DEMO: "省级示范", Rating.MUNICIPAL_DEMO: "市级示范"}
STATUS_LABELS = {
    KindergartenStatus.OPERATING: "在办",
    KindergartenStatus.UNDER_CONSTRUCTION: "建设中",
    KindergartenStatus.CLOSED: "停办",
}
ROLE_LABELS = {AllianceRole.LEAD: "龙头园", AllianceRole.PILLAR: "支柱园", AllianceRole.MEMBER: "成员园"}
LEVEL_LABELS = {
    TeacherLevel.NEW: "新教师",
    TeacherLevel.YOUNG: "青年教师",
    TeacherLevel.BACKBONE: "骨干教师",
    TeacherLevel.LEADER: "学科带头人",
}

# The post whose holder represents a kindergarten in its alliance's teaching-research group.
RESEARCH_HEAD_POST = "业务园长"


class Section(UUIDPrimaryKey, Base):
    """A section of the district education bureau (成幼科, 教研室, ...)."""

    __tablename__ = "sections"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Kindergarten(UUIDPrimaryKey, Base):
    __tablename__ = "kindergartens"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    licence_no: Mapped[str | None] = mapped_column(String(64))
    licence_issued_on: Mapped[date | None]
    category: Mapped[Category] = mapped_column(_enum(Category, "kindergarten_category"))
    rating: Mapped[Rating] = mapped_column(_enum(Rating, "kindergarten_rating"), default=Rating.NONE)
    status: Mapped[KindergartenStatus] = mapped_column(
        _enum(KindergartenStatus, "kindergarten_status"), default=KindergartenStatus.OPERATING
    )
    town: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(200), default="")
    head_name: Mapped[str] = mapped_column(String(50), default="")
    head_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    # Object-store key of the uploaded seal scan (PNG); demo data uses specimens marked 样章.
    seal_key: Mapped[str | None] = object_key_column(120)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="kindergarten")
    teachers: Mapped[list[Teacher]] = relationship(back_populates="kindergarten", order_by="Teacher.code")

    @property
    def current_membership(self) -> Membership | None:
        return next((m for m in self.memberships if m.ended_on is None), None)


class Alliance(UUIDPrimaryKey, Base):
    """A 1+1+N alliance. Lead, pillar and members are all memberships: one source of truth."""

    __tablename__ = "alliances"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The 乡镇/街道 the alliance serves (方案: 各民办园结合乡镇、街道区域划分): the review suggests it to
    # an applicant from one of them. A town is served by one alliance at a time.
    service_area: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="alliance")

    @property
    def current_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.ended_on is None]

    def _with_role(self, role: AllianceRole) -> Kindergarten | None:
        return next((m.kindergarten for m in self.current_memberships if m.role == role), None)

    @property
    def lead(self) -> Kindergarten | None:
        return self._with_role(AllianceRole.LEAD)

    @property
    def pillar(self) -> Kindergarten | None:
        return self._with_role(AllianceRole.PILLAR)

    @property
    def members(self) -> list[Kindergarten]:
        found = [m.kindergarten for m in self.current_memberships if m.role == AllianceRole.MEMBER]
        return sorted(found, key=lambda k: k.code)


class Membership(UUIDPrimaryKey, Base):
    """A kindergarten's place in an alliance from ``started_on``; ended memberships are kept."""

    __tablename__ = "memberships"
    __table_args__ = (
        # At most one current alliance per kindergarten, one current lead and pillar per alliance.
        Index(
            "uq_memberships_current_kindergarten",
            "kindergarten_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        Index(
            "uq_memberships_current_role",
            "alliance_id",
            "role",
            unique=True,
            sqlite_where=text("ended_on IS NULL AND role != 'member'"),
            postgresql_where=text("ended_on IS NULL AND role != 'member'"),
        ),
    )

    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    role: Mapped[AllianceRole] = mapped_column(_enum(AllianceRole, "alliance_role"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]

    alliance: Mapped[Alliance] = relationship(back_populates="memberships")
    kindergarten: Mapped[Kindergarten] = relationship(back_populates="memberships")


class Teacher(UUIDPrimaryKey, Base):
    """One person on a kindergarten's staff (教师名册). A teacher who leaves is marked left, never
    deleted once anything refers to them: attendance and certificates keep their history."""

    __tablename__ = "teachers"
    __table_args__ = (
        UniqueConstraint("kindergarten_id", "code"),
        # A phone number reaches one person: unique among the district's active teachers.
        Index(
            "uq_teachers_active_phone",
            "phone",
            unique=True,
            sqlite_where=text("active AND phone IS NOT NULL"),
            postgresql_where=text("active AND phone IS NOT NULL"),
        ),
    )

    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(50), default="教师")
    level: Mapped[TeacherLevel] = mapped_column(_enum(TeacherLevel, "teacher_level"), default=TeacherLevel.YOUNG)
    birth_year: Mapped[int | None]
    # Normalised: 11 digits for a mobile, "area-number" for a landline (see roster_rules).
    phone: Mapped[str | None] = mapped_column(String(32))
    # One of the six mentor-team domains (健康/语言/社会/科学/艺术/游戏), or none.
    mentor_team: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    kindergarten: Mapped[Kindergarten] = relationship(back_populates="teachers")

    __mapper_args__ = {"version_id_col": version}


class ResearchGroupSeat(UUIDPrimaryKey, Base):
    """The teacher a kindergarten sends to its alliance's teaching-research group (教研组), named
    on purpose; the lead kindergarten's seat is the group's 组长. A kindergarten without a named
    seat is represented by its 业务园长."""

    __tablename__ = "research_group_seats"
    __table_args__ = (UniqueConstraint("alliance_id", "kindergarten_id"),)

    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id", ondelete="RESTRICT"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    teacher: Mapped[Teacher] = relationship()
