"""The catalogue's tables: site settings, agencies, lĩnh vực, levels, subjects and procedures
with their ordered parts.

Enumerations are stored as plain strings (no database ENUM type), so adding a value needs no
migration; the services check values against these classes. Lists that belong to one procedure
(steps, channels, dossier items, results, legal bases, related codes) are child rows ordered by
`position` and replaced whole.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, Versioned, utcnow


class AgencyKind(enum.StrEnum):
    PEOPLE_COMMITTEE = "people_committee"
    OFFICE = "office"
    DEPARTMENT = "department"
    COMMUNE = "commune"
    BRANCH = "branch"
    MINISTRY = "ministry"
    OTHER = "other"


class Status(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ABOLISHED = "abolished"


class Role(enum.StrEnum):
    """The part an agency plays in a procedure, in the national database's order."""

    IMPLEMENTING = "implementing"
    COMPETENT = "competent"
    AUTHORIZED = "authorized"
    COORDINATING = "coordinating"


class ChannelKind(enum.StrEnum):
    DIRECT = "direct"
    ONLINE = "online"
    POSTAL = "postal"


class TimeUnit(enum.StrEnum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    HOURS = "hours"
    MONTHS = "months"


class OnlineLevel(enum.StrEnum):
    FULL = "full"
    PARTIAL = "partial"


class SiteSettings(Versioned, Base):
    """The installation's identity and reception desk: one row, edited by admins."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_name: Mapped[str] = mapped_column(String(200), default="")
    locality: Mapped[str] = mapped_column(String(200), default="")
    base_url: Mapped[str] = mapped_column(String(300), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    desk_name: Mapped[str] = mapped_column(String(300), default="")
    desk_address: Mapped[str] = mapped_column(Text, default="")
    desk_hours: Mapped[str] = mapped_column(Text, default="")
    desk_phone: Mapped[str] = mapped_column(String(100), default="")
    desk_email: Mapped[str] = mapped_column(String(200), default="")


class Agency(Versioned, Base):
    """An office that receives, decides or helps with procedures (cơ quan)."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(200), default="")
    # English for foreign investors, written by staff; "" when not translated (pages then show
    # the Vietnamese, marked). Never filled by an import of the national data.
    name_en: Mapped[str] = mapped_column(String(300), default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32), default=AgencyKind.OTHER)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    position: Mapped[int] = mapped_column(default=0)
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    sort_name: Mapped[str] = mapped_column(String(800), default="")

    parent: Mapped[Agency | None] = relationship(
        remote_side=[id], back_populates="children", foreign_keys=[parent_id]
    )
    children: Mapped[list[Agency]] = relationship(
        back_populates="parent", foreign_keys=[parent_id], order_by="Agency.position"
    )
    successor: Mapped[Agency | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    def is_retired(self, on: date | None = None) -> bool:
        """True when the agency no longer exists on `on` (today by default)."""
        return self.valid_to is not None and self.valid_to < (on or date.today())

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Field(Versioned, Base):
    """A lĩnh vực: the subject area a procedure belongs to."""

    __tablename__ = "field"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300), unique=True)
    name_en: Mapped[str] = mapped_column(String(300), default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(String(800), default="")


class Level(Base):
    """A cấp thực hiện (Cấp tỉnh, Cấp huyện, Cấp xã, ...)."""

    __tablename__ = "level"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sort_name: Mapped[str] = mapped_column(String(800), default="")  # text.level_sort_key


class Subject(Base):
    """An đối tượng thực hiện: who may carry out a procedure."""

    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    sort_name: Mapped[str] = mapped_column(String(800), default="")


procedure_field = Table(
    "procedure_field",
    Base.metadata,
    Column("procedure_id", ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("field.id", ondelete="CASCADE"), primary_key=True),
)
procedure_level = Table(
    "procedure_level",
    Base.metadata,
    Column("procedure_id", ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True),
    Column("level_id", ForeignKey("level.id", ondelete="CASCADE"), primary_key=True),
)
procedure_subject = Table(
    "procedure_subject",
    Base.metadata,
    Column("procedure_id", ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True),
    Column("subject_id", ForeignKey("subject.id", ondelete="CASCADE"), primary_key=True),
)


class AgencyLinks:
    """What a procedure says of its agency links (`agency_links`, in order), for the stored
    procedure and for the light rows of a list (catalogue/rows.py) alike."""

    __slots__ = ()

    def agencies(self, role: Role | str) -> list:
        """The agency links of one role, in order."""
        return [link for link in self.agency_links if link.role == role]

    @property
    def main_agency(self):
        """The first implementing agency that is in the catalogue."""
        for link in self.agencies(Role.IMPLEMENTING):
            if link.agency is not None:
                return link.agency
        return None


class Procedure(AgencyLinks, Versioned, Base):
    """A thủ tục hành chính with every field of the national TTHC database."""

    __tablename__ = "procedure"
    __table_args__ = (Index("ix_procedure_status_sort", "status", "sort_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(Text)
    # English name and summary (see Agency.name_en): staff's translation, "" when none.
    name_en: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(String(800), default="")
    status: Mapped[str] = mapped_column(String(32), default=Status.DRAFT)
    decision_number: Mapped[str] = mapped_column(String(200), default="")
    decision_date: Mapped[date | None]
    procedure_type: Mapped[str] = mapped_column(String(300), default="")
    receiving_address: Mapped[str] = mapped_column(Text, default="")
    online_level: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    # Where the procedure is submitted online (a service portal's page), when it can be.
    online_url: Mapped[str] = mapped_column(String(1000), default="")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("procedure.id"))
    abolished_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When staff last saved this procedure in the portal (None: never edited here). Local state,
    # not part of the record: an import of an older version must not silently overwrite it.
    local_edit_at: Mapped[datetime | None]
    # When staff last confirmed the procedure still correct ("checked", or a publication); None
    # for a row an import or the seed wrote and nobody reviewed, which counts from its
    # `updated_at`. The stale-entries list (services.editorial.review) follows it. Local state,
    # not part of the record; a check writes it without bumping `version`, so it never
    # conflicts with an open edit.
    last_reviewed_at: Mapped[datetime | None] = mapped_column(index=True)

    replaced_by: Mapped[Procedure | None] = relationship(remote_side=[id])
    fields: Mapped[list[Field]] = relationship(secondary=procedure_field, order_by=Field.sort_name)
    levels: Mapped[list[Level]] = relationship(secondary=procedure_level, order_by=Level.sort_name)
    subjects: Mapped[list[Subject]] = relationship(
        secondary=procedure_subject, order_by=Subject.sort_name
    )
    agency_links: Mapped[list[ProcedureAgency]] = relationship(
        back_populates="procedure",
        cascade="all, delete-orphan",
        order_by="ProcedureAgency.position",
    )
    steps: Mapped[list[Step]] = relationship(cascade="all, delete-orphan", order_by="Step.position")
    channels: Mapped[list[Channel]] = relationship(
        cascade="all, delete-orphan", order_by="Channel.position"
    )
    dossier: Mapped[list[DossierItem]] = relationship(
        cascade="all, delete-orphan", order_by="DossierItem.position"
    )
    results: Mapped[list[Result]] = relationship(
        cascade="all, delete-orphan", order_by="Result.position"
    )
    legal_bases: Mapped[list[LegalBasis]] = relationship(
        cascade="all, delete-orphan", order_by="LegalBasis.position"
    )
    related: Mapped[list[RelatedProcedure]] = relationship(
        cascade="all, delete-orphan", order_by="RelatedProcedure.position"
    )

    @property
    def is_public(self) -> bool:
        return self.status in (Status.PUBLISHED, Status.ABOLISHED)

    def dossier_groups(self) -> list[tuple[str, list[DossierItem]]]:
        """Dossier items grouped by case, groups in order of first appearance."""
        groups: dict[str, list[DossierItem]] = {}
        for item in self.dossier:
            groups.setdefault(item.group, []).append(item)
        return list(groups.items())


class ProcedureAgency(Base):
    """An agency in one of its roles for a procedure; `name` keeps the name as published."""

    __tablename__ = "procedure_agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    procedure: Mapped[Procedure] = relationship(back_populates="agency_links")
    agency: Mapped[Agency | None] = relationship()

    @property
    def display_name(self) -> str:
        return self.agency.name if self.agency is not None else self.name


class _ProcedurePart:
    """Columns shared by the ordered child rows of a procedure."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class Step(_ProcedurePart, Base):
    __tablename__ = "step"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)


class Channel(_ProcedurePart, Base):
    """A way to submit (trực tiếp, trực tuyến, bưu chính) with its time limit and fees."""

    __tablename__ = "channel"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    time_limit_value: Mapped[float | None]
    time_limit_unit: Mapped[str | None] = mapped_column(String(32))
    time_limit_text: Mapped[str] = mapped_column(Text, default="")
    fee_text: Mapped[str] = mapped_column(Text, default="")
    fee_amount: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")


class DossierItem(_ProcedurePart, Base):
    """One paper of the dossier (thành phần hồ sơ), in the case group it belongs to."""

    __tablename__ = "dossier_item"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    group: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    originals: Mapped[int] = mapped_column(default=0)
    copies: Mapped[int] = mapped_column(default=0)
    required: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    template_name: Mapped[str] = mapped_column(Text, default="")
    template_url: Mapped[str] = mapped_column(String(1000), default="")
    # An uploaded form template: the generated name of an Attachment (see services.uploads).
    template_file: Mapped[str | None] = mapped_column(String(100))


class Result(_ProcedurePart, Base):
    __tablename__ = "result"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(100))


class LegalBasis(_ProcedurePart, Base):
    __tablename__ = "legal_basis"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    issued_date: Mapped[date | None]
    issuer: Mapped[str] = mapped_column(String(300), default="")


class ReplacedLegalDocument(Base):
    """A legal document (căn cứ pháp lý) staff marked as replaced ("đã được thay thế").

    Legal bases are rows of each procedure, so a document is named by its number (`key`: the
    number folded, see services.editorial.review.document_key); every procedure citing it and
    not reviewed since `replaced_at` goes to the stale list.
    """

    __tablename__ = "replaced_legal_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    number: Mapped[str] = mapped_column(String(200))
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class RelatedProcedure(_ProcedurePart, Base):
    """A related procedure named by code: it may be outside this catalogue."""

    __tablename__ = "related_procedure"
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(50))
