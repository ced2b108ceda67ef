"""Backup and restore of a whole instance: the database, the uploaded files and the settings
in one .tar.gz archive with a manifest (format version, date, schema revision, counts, and a
SHA-256 per file), and putting such an archive back into an empty instance.

A backup is safe while the site serves. The database is copied first, as one consistent
snapshot: SQLite through its online backup API (`sqlite3.Connection.backup`, which copies
the pages of one read transaction while writers go on in WAL mode), PostgreSQL through
`pg_dump --snapshot` of a REPEATABLE READ transaction that also reads the counts, so the
manifest describes exactly the dump. The uploads are copied after it: a file is moved into
place only once the save that names it has committed, so every file the snapshot names is
already there, or still waiting under its ".part" name, which is then taken instead. Orphan
files the snapshot does not name are copied as well (the uploads folder entire).

The settings are the site settings (in the database) and the instance's own files:
config.py, agency-map.toml, the edited search dictionary and English glossary. The instance's
secret key is not copied: the restored site starts with new sessions.

A restore refuses an instance that holds anything, an archive it cannot read or whose files
do not match the manifest, one from another kind of database, and one whose schema is newer
than the code; an older schema is upgraded by the migrations (`flask db upgrade`'s path).
The search index is rebuilt from the restored database.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL

from . import audit, search
from .db import Base, create_schema, db, transaction, utcnow
from .errors import ServiceError
from .models import (
    AgencyRevision,
    Attachment,
    AuditEntry,
    PageFeedback,
    Procedure,
    ProcedureRevision,
    SearchChangeCounter,
    SearchIndexMark,
    SearchLog,
    User,
)
from .search import synonyms

FORMAT = "tthc-backup"
VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads/"
SETTINGS = "settings/"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# What the manifest counts, and the restore checks again.
COUNTED = {
    "procedures": Procedure,
    "accounts": User,
    "procedure_revisions": ProcedureRevision,
    "agency_revisions": AgencyRevision,
    "feedback": PageFeedback,
    "search_log": SearchLog,
    "attachments": Attachment,
    "audit_entries": AuditEntry,
}
# Tables an empty instance has rows in: the search change log's counter and the marks of the
# indexes that follow it (services/search/changelog.py).
BOOKKEEPING = {SearchChangeCounter.__tablename__, SearchIndexMark.__tablename__}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z]+$")


class BackupError(ServiceError):
    """A backup or restore that cannot be done; the message says why, in one line."""


def settings_files() -> list[str]:
    """The names of the instance's own settings files (those present are copied)."""
    return ["config.py", "agency-map.toml", synonyms.FILENAME, synonyms.GLOSSARY.name]


def _dialect() -> str:
    name = db.engine.url.get_backend_name()
    if name not in DUMPS:
        raise BackupError(_("Chưa hỗ trợ sao lưu cơ sở dữ liệu %(name)s.", name=name))
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _facts(connection: Connection) -> tuple[list[str], dict[str, int], set[str]]:
    """The schema revisions, the counts and the names of the uploaded files a database holds,
    all read in the connection's one transaction; a table an older schema lacks is not
    counted."""
    revisions = sorted(
        connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    )
    tables = set(inspect(connection).get_table_names())
    counts = {
        key: connection.execute(select(func.count()).select_from(model.__table__)).scalar_one()
        for key, model in COUNTED.items()
        if model.__tablename__ in tables
    }
    names = set(connection.execute(select(Attachment.__table__.c.stored_name)).scalars())
    return revisions, counts, names


# --- the database -------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump and pg_restore, with the password in the environment (never on
    a command line, which other users of the machine can read)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            _("Không tìm thấy lệnh %(cmd)s: hãy cài PostgreSQL client.", cmd=command[0])
        ) from None
    if done.returncode:
        lines = (done.stderr or "").strip().splitlines() or ["?"]
        raise BackupError(_("%(cmd)s báo lỗi: %(reason)s", cmd=command[0], reason=lines[-1]))


def _dump_sqlite(out: Path) -> tuple[list[str], dict[str, int], set[str]]:
    source = sqlite3.connect(db.engine.url.database, timeout=15)
    try:
        target = sqlite3.connect(out)
        with target:
            source.backup(target)  # one step: the pages of one read transaction
        target.close()
    finally:
        source.close()
    engine = create_engine(f"sqlite:///{out}")
    try:
        with engine.connect() as connection:
            return _facts(connection)
    finally:
        engine.dispose()


def _dump_postgresql(out: Path) -> tuple[list[str], dict[str, int], set[str]]:
    uri, env = _libpq(db.engine.url)
    options = {"isolation_level": "REPEATABLE READ"}
    with db.engine.connect().execution_options(**options) as connection, connection.begin():
        # pg_dump reads the very snapshot the counts were read in, while it stays open.
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = _facts(connection)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={out}", f"--dbname={uri}"], env)  # fmt: skip
    return facts


# --- writing an archive -------------------------------------------------------------------------


def _uploads(named: set[str]) -> tuple[dict[str, Path], list[str]]:
    """The upload files to copy (archive name → file) and the names the database has but the
    folder does not (none, unless files were removed by hand)."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    present = sorted(folder.iterdir()) if folder.is_dir() else []
    files = {
        f"{UPLOADS}{path.name}": path
        for path in present
        if path.is_file() and _STORED_NAME.match(path.name)
    }
    missing = []
    for name in sorted(named):
        if f"{UPLOADS}{name}" in files:
            continue
        partial = folder / f".{name}.part"  # its save committed; the move is on its way
        if partial.is_file():
            files[f"{UPLOADS}{name}"] = partial
        elif not (folder / name).is_file():
            missing.append(name)
    return files, missing


def create(path: Path) -> dict[str, Any]:
    """Write a backup archive of this instance to `path` (a new .tar.gz file) and return its
    manifest. Raises BackupError when `path` exists, its folder cannot be written, or the
    database cannot be dumped."""
    if path.exists():
        raise BackupError(_("Tệp %(path)s đã có: hãy chọn tên khác.", path=path))
    dialect = _dialect()
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as work:
            dump = Path(work) / DUMPS[dialect]
            dumper = _dump_sqlite if dialect == "sqlite" else _dump_postgresql
            revisions, counts, named = dumper(dump)
            files, missing = _uploads(named)
            instance = Path(current_app.instance_path)
            for name in settings_files():
                if (instance / name).is_file():
                    files[f"{SETTINGS}{name}"] = instance / name
            files = {dump.name: dump, **files}
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": utcnow().isoformat() + "Z",
                "database": dialect,
                "schema_revision": revisions,
                "counts": counts,
                "missing_uploads": missing,
                "files": {name: _sha256(source) for name, source in files.items()},
            }
            _write_archive(Path(work) / "archive.tar.gz", manifest, files)
            os.replace(Path(work) / "archive.tar.gz", path)
    except OSError as error:
        raise BackupError(
            _("Không ghi được bản sao lưu: %(reason)s", reason=error.strerror or error)
        ) from None
    with transaction():
        audit.record("backup.created", None, _("Sao lưu vào %(path)s", path=path.name))
    return manifest


def _write_archive(out: Path, manifest: dict[str, Any], files: dict[str, Path]) -> None:
    with tarfile.open(out, "w:gz") as archive:
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(data), int(utcnow().timestamp())
        archive.addfile(info, io.BytesIO(data))
        for name, source in files.items():
            archive.add(source, arcname=name, recursive=False)


# --- restoring ----------------------------------------------------------------------------------


def _occupied() -> list[str]:
    """What the instance already holds (tables with rows, uploaded files), empty when none."""
    tables = set(inspect(db.engine).get_table_names()) - BOOKKEEPING
    found = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in tables and connection.execute(select(table).limit(1)).first():
                found.append(table.name)
    folder = Path(current_app.config["UPLOAD_DIR"])
    if folder.is_dir() and any(folder.iterdir()):
        found.append(str(folder))
    return found


def _damaged(reason: object) -> BackupError:
    return BackupError(_("Bản sao lưu bị hỏng hoặc không đọc được: %(reason)s", reason=reason))


def _allowed(name: str, dialect: str) -> bool:
    if name in (MANIFEST, DUMPS[dialect]):
        return True
    if name.startswith(UPLOADS):
        return bool(_STORED_NAME.match(name.removeprefix(UPLOADS)))
    return name.removeprefix(SETTINGS) in settings_files() and name.startswith(SETTINGS)


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        manifest = json.loads(archive.extractfile(member).read())
    except (KeyError, AttributeError, ValueError):
        raise _damaged(_("không có bản kê %(name)s", name=MANIFEST)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(_("không phải bản sao lưu của cổng"))
    if manifest.get("version") != VERSION:
        version = manifest.get("version")
        raise BackupError(
            _("Bản sao lưu theo định dạng %(v)s; mã nguồn này đọc định dạng %(mine)s.",
              v=version, mine=VERSION)
        )  # fmt: skip
    return manifest


def _unpack(path: Path, work: Path) -> dict[str, Any]:
    """Check the archive against its manifest and extract its files into `work`."""
    if not path.is_file():
        raise BackupError(_("Không có tệp %(path)s.", path=path))
    try:
        with tarfile.open(path, "r:gz") as archive:
            manifest = _manifest(archive)
            dialect = manifest.get("database")
            if dialect not in DUMPS:
                raise _damaged(_("không rõ loại cơ sở dữ liệu"))
            expected = dict(manifest.get("files") or {})
            for member in archive:
                if member.name == MANIFEST:
                    continue
                if (
                    not member.isfile()
                    or not _allowed(member.name, dialect)
                    or member.name not in expected
                ):
                    raise _damaged(_("tệp lạ %(name)s", name=member.name))
                out = work / member.name
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as source, out.open("wb") as target:
                    shutil.copyfileobj(source, target)
                if _sha256(out) != expected.pop(member.name):
                    raise _damaged(_("tệp %(name)s không khớp bản kê", name=member.name))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise _damaged(error) from None
    if expected:
        raise _damaged(_("thiếu tệp %(name)s", name=sorted(expected)[0]))
    return manifest


def _check_schema(manifest: dict[str, Any]) -> None:
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    known = {revision.revision for revision in script.walk_revisions()}
    newer = sorted(set(manifest.get("schema_revision") or []) - known)
    if newer:
        raise BackupError(
            _("Bản sao lưu có cơ sở dữ liệu ở phiên bản %(rev)s, mới hơn mã nguồn này: hãy cập "
              "nhật mã nguồn trước.", rev=", ".join(newer))
        )  # fmt: skip


def _load_database(dialect: str, dump: Path) -> None:
    if dialect != _dialect():
        raise BackupError(
            _("Bản sao lưu là cơ sở dữ liệu %(a)s, nơi nhận dùng %(b)s.", a=dialect, b=_dialect())
        )
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        source, target = sqlite3.connect(dump), sqlite3.connect(db.engine.url.database, timeout=15)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        uri, env = _libpq(db.engine.url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
              "--single-transaction", f"--dbname={uri}", str(dump)], env)  # fmt: skip
    db.engine.dispose()


def restore(path: Path) -> dict[str, Any]:
    """Put the backup archive at `path` back into this instance, which must be empty (a new
    instance folder, maybe after `flask init-db`); then bring its schema up to date and
    rebuild the search index. Returns the manifest.

    Raises BackupError when the instance holds anything, the archive is missing, damaged or
    does not match its manifest, comes from another kind of database, or has a newer schema.
    """
    occupied = _occupied()
    if occupied:
        raise BackupError(
            _("Nơi phục hồi không trống (%(what)s): chỉ phục hồi vào một phiên bản mới, trống.",
              what=", ".join(occupied[:3]))
        )  # fmt: skip
    instance = Path(current_app.instance_path)
    with tempfile.TemporaryDirectory(dir=instance, prefix=".restore-") as folder:
        work = Path(folder)
        manifest = _unpack(path, work)
        _check_schema(manifest)
        _load_database(manifest["database"], work / DUMPS[manifest["database"]])
        uploads = Path(current_app.config["UPLOAD_DIR"])
        uploads.mkdir(parents=True, exist_ok=True)
        for source in sorted((work / UPLOADS).glob("*")):
            shutil.copy2(source, uploads / source.name)
        for source in sorted((work / SETTINGS).glob("*")):
            if not (instance / source.name).exists():  # the new instance's own config wins
                shutil.copy2(source, instance / source.name)
    create_schema()
    with db.engine.connect() as connection:
        _revisions, counts, _names = _facts(connection)
    counts = {key: counts.get(key) for key in manifest["counts"]}
    if counts != manifest["counts"]:
        raise BackupError(_("Số bản ghi sau khi phục hồi không khớp bản kê: %(c)s", c=counts))
    search.rebuild()
    with transaction():
        audit.record("backup.restored", None, _("Phục hồi từ %(path)s", path=path.name))
    return manifest
