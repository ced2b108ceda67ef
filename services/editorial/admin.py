"""Admin use cases: agencies (with history and restore), lĩnh vực, the site settings and the
search synonym dictionary.

Each edit form carries the version token of what it was loaded from, as for procedures: a save
against something that changed since is refused with EditConflict. For agencies, lĩnh vực and
the settings the token is the row's version column, which the UPDATE itself checks (atomic on
every database); for the dictionary, a file, it is a digest of its text, checked and replaced
under a file lock. Agencies keep a revision per change.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import accounts, audit
from ..catalogue import convert, queries, records, store
from ..catalogue.records import Record
from ..db import db, transaction, use_case
from ..errors import EditConflict, NotFound, ValidationError
from ..models import Agency, AgencyRevision, Field, SiteSettings, StaffRole, User
from ..search import synonyms
from . import history
from .diff import Change, diff_records


def version_token(row: Agency | Field | SiteSettings) -> str:
    """The token an edit form quotes: the row's version ("0" for settings never stored)."""
    return str(row.version or 0)


def _check(current: Record, token: str, quoted: str) -> None:
    if quoted != token:
        raise EditConflict(current, token)


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


def _stale_agency(error: Exception, slug: str | None, *_args, **_kwargs) -> None:
    """After the rollback: the agency changed between our read and our UPDATE."""
    if isinstance(error, StaleDataError) and slug is not None:
        agency = queries.get_agency(slug)
        raise EditConflict(convert.agency_record(agency), version_token(agency)) from None


def _agency_input(slug: str | None, raw: dict, version: str, user: User) -> tuple[str, Record]:
    """The action ("created" or "updated") and the checked record of an agency form."""
    if slug is None:
        record = _normalized(records.normalize_agency, raw, "agency")
        if db.session.execute(select(Agency.id).where(Agency.slug == record["slug"])).first():
            raise ValidationError({"slug": _("Đã có cơ quan mang tên đường dẫn này.")})
        return "created", record
    agency, current = get_agency(slug, user)
    _check(current, version_token(agency), version)
    return "updated", _normalized(records.normalize_agency, {**raw, "slug": slug}, "agency")


@use_case(on_error=_stale_agency)
def save_agency(slug: str | None, raw: dict, version: str, user: User, note: str = "") -> Agency:
    """Create (slug None) or update an agency from a form and record a revision.

    `version` is the token the form was loaded with. The slug of an existing agency does not
    change. Raises ValidationError (unknown parent or successor, a taken slug, a loop in the
    hierarchy), EditConflict, NotFound, PermissionDenied.
    """
    accounts.require(user, StaffRole.ADMIN)
    action, record = _agency_input(slug, raw, version, user)
    known = set(db.session.execute(select(Agency.slug)).scalars())
    for key in ("parent", "successor"):
        if record[key] and record[key] not in known:
            raise ValidationError({key: _("Không có cơ quan “%(s)s”.", s=record[key])})
    if record["valid_from"] and record["valid_to"] and record["valid_to"] < record["valid_from"]:
        raise ValidationError({"valid_to": _("Ngày hết hiệu lực phải sau ngày bắt đầu.")})
    agency, outcome = store.store_agency(record)
    if outcome != "unchanged":
        history.add_agency_revision(agency, convert.agency_record(agency), action, user, note)
    audit.record(f"agency.{action}", agency, note or agency.name, actor=user)
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


def compare_agency(slug: str, old: int, new: int, user: User) -> list[Change]:
    """What changed from one revision of an agency to another."""
    agency, _record = get_agency(slug, user)
    a, b = _agency_revision(agency, old), _agency_revision(agency, new)
    return diff_records(a.record, b.record)


@use_case(on_error=_stale_agency)
def restore_agency(slug: str, number: int, version: str, user: User) -> Agency:
    """Make an old revision of an agency current again, as a new revision."""
    agency, _record = get_agency(slug, user)
    revision = _agency_revision(agency, number)
    note = _("Khôi phục phiên bản số %(n)s", n=number)
    return save_agency(slug, revision.record, version, user, note)


# --- lĩnh vực -----------------------------------------------------------------------------------


def list_fields(user: User) -> list[Field]:
    """Every lĩnh vực in Vietnamese order, for admins."""
    accounts.require(user, StaffRole.ADMIN)
    return list(db.session.execute(select(Field).order_by(Field.sort_name)).scalars())


def get_field(slug: str, user: User) -> Field:
    """A lĩnh vực, for admins. Raises NotFound, PermissionDenied."""
    accounts.require(user, StaffRole.ADMIN)
    return queries.get_field(slug)


def _stale_field(error: Exception, slug: str | None, *_args, **_kwargs) -> None:
    """After the rollback: the lĩnh vực changed between our read and our UPDATE."""
    if isinstance(error, StaleDataError) and slug is not None:
        field = queries.get_field(slug)
        raise EditConflict(convert.field_record(field), version_token(field)) from None


@use_case(on_error=_stale_field)
def save_field(slug: str | None, raw: dict, version: str, user: User) -> Field:
    """Create (slug None) or rename a lĩnh vực; procedures keep it under its new name.

    Raises ValidationError for a name or slug taken by another lĩnh vực, EditConflict when it
    changed since the form was loaded (`version`), NotFound, PermissionDenied.
    """
    accounts.require(user, StaffRole.ADMIN)
    current = get_field(slug, user) if slug else None
    if current is not None:
        _check(convert.field_record(current), version_token(current), version)
    record = _normalized(records.normalize_field, {**raw, "slug": slug} if slug else raw, "field")
    for key, column in (("name", Field.name), ("slug", Field.slug)):
        other = db.session.execute(select(Field).where(column == record[key])).scalar_one_or_none()
        if other is not None and other is not current:
            raise ValidationError({key: _("Đã có lĩnh vực này.")})
    field, outcome = store.store_field(record)
    audit.record(f"field.{outcome}", field, field.name, actor=user)
    return field


# --- site settings ------------------------------------------------------------------------------


def get_settings(user: User) -> tuple[SiteSettings, Record]:
    """The site settings and their record, for admins."""
    accounts.require(user, StaffRole.ADMIN)
    settings = queries.get_settings()
    return settings, convert.settings_record(settings)


def _stale_settings(error: Exception, *_args, **_kwargs) -> None:
    """After the rollback: the settings changed between our read and our UPDATE."""
    if isinstance(error, StaleDataError):
        settings = queries.get_settings()
        raise EditConflict(convert.settings_record(settings), version_token(settings)) from None


@use_case(on_error=_stale_settings)
def save_settings(raw: dict, version: str, user: User) -> SiteSettings:
    """Store the site settings. Raises ValidationError, EditConflict, PermissionDenied."""
    settings, current = get_settings(user)
    _check(current, version_token(settings), version)
    record = _normalized(lambda data, _path: records.normalize_settings(data), raw, "settings")
    audit.record("settings.updated", None, _("Sửa thông tin cổng"), actor=user)
    return store.store_settings(record)


# --- the search synonym dictionary --------------------------------------------------------------


def text_version(text: str) -> str:
    """The version token of the dictionary's text: a digest of it."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def get_synonyms(user: User) -> tuple[str, bool]:
    """The dictionary text in effect and whether it was edited here (not the shipped one)."""
    accounts.require(user, StaffRole.ADMIN)
    return synonyms.load_text(), synonyms.is_customized()


@contextlib.contextmanager
def _dictionary_checked(version: str, user: User) -> Iterator[None]:
    """Hold the dictionary's lock while checking that it is still the text of `version`, so two
    admins saving at once cannot both pass the check (the file has no version column)."""
    accounts.require(user, StaffRole.ADMIN)
    lock = synonyms.override_path().with_name(".synonyms.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        current = synonyms.load_text()
        _check({"text": current}, text_version(current), version)
        yield


def save_synonyms(text: str, version: str, user: User) -> None:
    """Store an edited dictionary; every process uses it from its next query.

    Raises ValidationError naming the first bad line (nothing is written), EditConflict when
    the dictionary changed since the form was loaded, PermissionDenied.
    """
    with _dictionary_checked(version, user), transaction():
        synonyms.save_text(text)
        lines = len(text.splitlines())
        audit.record("dictionary.synonyms", None, _("Sửa từ điển: %(n)s dòng", n=lines), actor=user)


def reset_synonyms(version: str, user: User) -> None:
    """Go back to the dictionary shipped with the portal. Raises EditConflict, PermissionDenied."""
    with _dictionary_checked(version, user), transaction():
        synonyms.reset()
        audit.record("dictionary.reset", None, _("Về từ điển gốc"), actor=user)
