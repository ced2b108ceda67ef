"""Admin use cases: agencies (with history and restore), lĩnh vực, the site settings and the
search synonym dictionary.

Each edit form carries the fingerprint of the record it was loaded from; a save against a record
that changed since is refused with EditConflict, as for procedures. Agencies keep a revision per
change. Changes are committed at once, so the public pages show them on the next request.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import accounts
from ..catalogue import convert, queries, records, store
from ..catalogue.records import Record
from ..db import db
from ..errors import NotFound, ValidationError
from ..models import Agency, AgencyRevision, Field, SiteSettings, StaffRole, User
from ..search import synonyms
from . import history
from .procedures import EditConflict


def _check(current: Record, fingerprint: str) -> None:
    if fingerprint != history.fingerprint(current):
        raise EditConflict(current, history.fingerprint(current))


def _normalized(reader, raw: dict, path: str) -> Record:
    """Run a records normalizer, reporting errors under the form's own field names."""
    try:
        return reader(raw, path)
    except ValidationError as error:
        raise ValidationError(
            {key.removeprefix(f"{path}."): message for key, message in error.errors.items()}
        ) from None


# --- agencies -----------------------------------------------------------------------------------


def list_agencies(user: User) -> list[queries.AgencyNode]:
    """The agency hierarchy, for admins."""
    accounts.require(user, StaffRole.ADMIN)
    return queries.agency_tree()


def get_agency(slug: str, user: User) -> tuple[Agency, Record]:
    """An agency and its canonical record, for admins. Raises NotFound, PermissionDenied."""
    accounts.require(user, StaffRole.ADMIN)
    agency = queries.get_agency(slug)
    return agency, convert.agency_record(agency)


def save_agency(
    slug: str | None, raw: dict, fingerprint: str, user: User, note: str = ""
) -> Agency:
    """Create (slug None) or update an agency from a form and record a revision.

    The slug of an existing agency does not change. Raises ValidationError (unknown parent or
    successor, a taken slug, a loop in the hierarchy), EditConflict, NotFound,
    PermissionDenied.
    """
    accounts.require(user, StaffRole.ADMIN)
    if slug is None:
        action = "created"
        record = _normalized(records.normalize_agency, raw, "agency")
        if db.session.execute(select(Agency.id).where(Agency.slug == record["slug"])).first():
            raise ValidationError({"slug": _("Đã có cơ quan mang tên đường dẫn này.")})
    else:
        action = "updated"
        agency, current = get_agency(slug, user)
        _check(current, fingerprint)
        record = _normalized(records.normalize_agency, {**raw, "slug": slug}, "agency")
    known = set(db.session.execute(select(Agency.slug)).scalars())
    for key in ("parent", "successor"):
        if record[key] and record[key] not in known:
            raise ValidationError({key: _("Không có cơ quan “%(s)s”.", s=record[key])})
    if record["valid_from"] and record["valid_to"] and record["valid_to"] < record["valid_from"]:
        raise ValidationError({"valid_to": _("Ngày hết hiệu lực phải sau ngày bắt đầu.")})
    agency, outcome = store.store_agency(record)
    if outcome != "unchanged":
        history.add_agency_revision(agency, convert.agency_record(agency), action, user, note)
    db.session.commit()
    return agency


def agency_history(slug: str, user: User) -> tuple[Agency, list[AgencyRevision]]:
    """An agency and its revisions, newest first."""
    agency, _record = get_agency(slug, user)
    return agency, history.agency_revisions(agency)


def _agency_revision(agency: Agency, number: int) -> AgencyRevision:
    revision = db.session.execute(
        select(AgencyRevision).where(
            AgencyRevision.agency_id == agency.id, AgencyRevision.number == number
        )
    ).scalar_one_or_none()
    if revision is None:
        raise NotFound(_("Không có phiên bản số %(n)s.", n=number))
    return revision


def compare_agency(slug: str, old: int, new: int, user: User) -> list[history.Change]:
    """What changed from one revision of an agency to another."""
    agency, _record = get_agency(slug, user)
    a, b = _agency_revision(agency, old), _agency_revision(agency, new)
    return history.diff_records(a.record, b.record)


def restore_agency(slug: str, number: int, fingerprint: str, user: User) -> Agency:
    """Make an old revision of an agency current again, as a new revision."""
    agency, _record = get_agency(slug, user)
    revision = _agency_revision(agency, number)
    note = _("Khôi phục phiên bản số %(n)s", n=number)
    return save_agency(slug, revision.record, fingerprint, user, note)


# --- lĩnh vực -----------------------------------------------------------------------------------


def list_fields(user: User) -> list[Field]:
    """Every lĩnh vực in Vietnamese order, for admins."""
    accounts.require(user, StaffRole.ADMIN)
    return list(db.session.execute(select(Field).order_by(Field.sort_name)).scalars())


def get_field(slug: str, user: User) -> Field:
    """A lĩnh vực, for admins. Raises NotFound, PermissionDenied."""
    accounts.require(user, StaffRole.ADMIN)
    return queries.get_field(slug)


def save_field(slug: str | None, raw: dict, user: User) -> Field:
    """Create (slug None) or rename a lĩnh vực; procedures keep it under its new name.

    Raises ValidationError for a name or slug taken by another lĩnh vực.
    """
    accounts.require(user, StaffRole.ADMIN)
    current = get_field(slug, user) if slug else None
    record = _normalized(records.normalize_field, {**raw, "slug": slug} if slug else raw, "field")
    for key, column in (("name", Field.name), ("slug", Field.slug)):
        other = db.session.execute(select(Field).where(column == record[key])).scalar_one_or_none()
        if other is not None and other is not current:
            raise ValidationError({key: _("Đã có lĩnh vực này.")})
    field, _outcome = store.store_field(record)
    db.session.commit()
    return field


# --- site settings ------------------------------------------------------------------------------


def get_settings(user: User) -> tuple[SiteSettings, Record]:
    """The site settings and their record, for admins."""
    accounts.require(user, StaffRole.ADMIN)
    settings = queries.get_settings()
    return settings, convert.settings_record(settings)


def save_settings(raw: dict, fingerprint: str, user: User) -> SiteSettings:
    """Store the site settings. Raises ValidationError, EditConflict, PermissionDenied."""
    _settings, current = get_settings(user)
    _check(current, fingerprint)
    record = _normalized(lambda data, _path: records.normalize_settings(data), raw, "settings")
    settings = store.store_settings(record)
    db.session.commit()
    return settings


# --- the search synonym dictionary --------------------------------------------------------------


def get_synonyms(user: User) -> tuple[str, bool]:
    """The dictionary text in effect and whether it was edited here (not the shipped one)."""
    accounts.require(user, StaffRole.ADMIN)
    return synonyms.load_text(), synonyms.is_customized()


def save_synonyms(text: str, fingerprint: str, user: User) -> None:
    """Store an edited dictionary; every process uses it from its next query.

    Raises ValidationError naming the first bad line (nothing is written), EditConflict when
    the dictionary changed since the form was loaded, PermissionDenied.
    """
    current, _customized = get_synonyms(user)
    _check({"text": current}, fingerprint)
    synonyms.save_text(text)


def reset_synonyms(fingerprint: str, user: User) -> None:
    """Go back to the dictionary shipped with the portal. Raises EditConflict, PermissionDenied."""
    current, _customized = get_synonyms(user)
    _check({"text": current}, fingerprint)
    synonyms.reset()
