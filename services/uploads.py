"""Uploaded form templates (mẫu đơn, tờ khai) for dossier items.

A file is accepted when its extension is one of .doc .docx .pdf .xls .xlsx .odt, its content
is of that type (checked by its bytes, not its name) and it is no larger than
`UPLOAD_MAX_BYTES`. It is stored in `UPLOAD_DIR` under a generated name (32 hex digits and the
extension); the name the user gave is kept only as data, to offer the download under it.

A file is kept only when the save that brought it commits: it is written under a hidden
partial name (not downloadable) and moved into place after the commit, or deleted when the
transaction ends otherwise (a refused save, a conflict, a form with errors). Files a record
names are never deleted, so a revision that named a replaced file can still offer it; files no
record names (left by a crash, or by versions before this rule) are removed by
`clean_orphans` (`flask uploads-clean`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from . import audit
from .catalogue.records import FILE_PATTERN
from .db import db, use_case
from .errors import NotFound, ValidationError
from .models import Attachment, DossierItem, ProcedureDraft, ProcedureRevision, User
from .text import nfc

log = logging.getLogger(__name__)

MIME_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names inside an OLE2 compound file (UTF-16LE in its directory) that make it a Word
# document or an Excel workbook.
_OLE2_STREAMS = {
    "doc": ("WordDocument".encode("utf-16-le"),),
    "xls": ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le")),
}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Limits past which a zip-based upload is a decompression bomb, not a form template: office
# files have some hundreds of entries, inflate XML five to twenty times, and a form template
# is a few megabytes once inflated. Small entries are not judged by ratio (a run of blanks).
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_RATIO = 100
ZIP_RATIO_FLOOR = 1024 * 1024
ZIP_MAX_INFLATED = 200 * 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

log = logging.getLogger(__name__)


def max_bytes() -> int:
    """The largest upload accepted: `UPLOAD_MAX_BYTES` (the factory sets 10 MB by default)."""
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _bomb_refusal() -> ValidationError:
    return ValidationError(
        {"file": _("Tệp nén bất thường (giải nén ra quá lớn hoặc quá nhiều phần): không nhận.")}
    )


def _office_compression(archive: zipfile.ZipFile) -> bool:
    """Whether every entry is stored or deflated, as office files are (Python inflates other
    methods without bounds); refuses an archive that inflates the way decompression bombs do,
    judged by its directory."""
    total = 0
    for info in archive.infolist():
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return False
        total += info.file_size
        over_ratio = info.file_size > ZIP_RATIO_FLOOR and (
            info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)
        )
        if over_ratio or total > ZIP_MAX_INFLATED:
            raise _bomb_refusal()
    return True


def _zip_kind(data: bytes) -> str | None:
    # Every entry starts a central directory record with this signature, so counting it bounds
    # the entries before the directory is parsed (each parsed entry costs memory).
    if data.count(b"PK\x01\x02") > ZIP_MAX_ENTRIES:
        raise _bomb_refusal()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not _office_compression(archive):
                return None
            names = archive.namelist()
            if names and names[0] == "mimetype":
                # Only as many bytes as the marker: the declared size may lie.
                with archive.open("mimetype") as entry:
                    if entry.read(len(_ODT_MIMETYPE) + 1) == _ODT_MIMETYPE:
                        return "odt"
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return "docx"
                if any(n.startswith("xl/") for n in names):
                    return "xlsx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError,
            EOFError, zlib.error, NotImplementedError):  # fmt: skip
        return None
    return None


def sniff(data: bytes) -> str | None:
    """The document type the bytes are ("pdf", "doc", "xls", "docx", "xlsx", "odt"), or None.

    A zip-based document is judged by its directory and at most a few bytes of one entry, so
    checking it reads a bounded amount whatever it inflates to. Raises ValidationError (key
    "file") for an archive with more than ZIP_MAX_ENTRIES entries, an entry that inflates more
    than ZIP_MAX_RATIO times, or more than ZIP_MAX_INFLATED bytes inflated in all."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_OLE2):
        for kind, markers in _OLE2_STREAMS.items():
            if any(marker in data for marker in markers):
                return kind
        return None
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def clean_filename(filename: str) -> str:
    """The last part of a client's file name (no folders), NFC, without control characters."""
    name = nfc(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 190 - len(ext)]}{dot}{ext}" if dot else name[:200]
    return name


def read_limited(stream: BinaryIO, limit: int) -> bytes | None:
    """Read at most `limit` bytes; None when the stream holds more."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def store_upload(stream: BinaryIO, filename: str, user: User | None) -> Attachment:
    """Check one uploaded form template and add it to the current unit of work (flush only):
    the file is kept, and downloadable, once the session commits (the save it came with), and
    deleted if the transaction ends otherwise.

    Arguments: the file's bytes as a stream, the name the client gave, the uploader. Returns
    the new Attachment. Raises ValidationError (key "file") for an empty or oversized file,
    an extension not allowed, content that is not what the extension says, or an archive that
    inflates like a decompression bomb.
    """
    original = clean_filename(filename)
    extension = _extension(original)
    if extension not in MIME_TYPES:
        raise ValidationError({"file": _("Chỉ nhận tệp .doc, .docx, .pdf, .xls, .xlsx hoặc .odt.")})
    limit = max_bytes()
    data = read_limited(stream, limit)
    if data is None:
        raise ValidationError(
            {"file": _("Tệp quá lớn: tối đa %(mb)s MB.", mb=round(limit / 1024 / 1024, 1))}
        )
    if not data:
        raise ValidationError({"file": _("Tệp rỗng.")})
    if sniff(data) != extension:
        raise ValidationError(
            {"file": _("Nội dung tệp không phải là tệp .%(ext)s thật.", ext=extension)}
        )
    folder = Path(current_app.config["UPLOAD_DIR"])
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    partial = folder / _partial_name(stored_name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("xb") as out:
            out.write(data)
    except OSError:
        # A damaged, full or read-only uploads folder: the staff member is told, not a 500.
        log.exception("cannot write an upload into %s", folder)
        raise ValidationError(
            {"file": _("Máy chủ không lưu được tệp lúc này. Hãy báo quản trị viên hệ thống.")}
        ) from None
    db.session.info.setdefault(_PENDING, []).append((partial, folder / stored_name))
    attachment = Attachment(
        stored_name=stored_name,
        original_name=original,
        content_type=MIME_TYPES[extension],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id if user is not None else None,
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record("upload.stored", ("attachment", stored_name), original, actor=user)
    return attachment


# --- kept only when the save commits ------------------------------------------------------------

_PENDING = "pending_uploads"
_PARTIAL = re.compile(r"^\.([0-9a-f]{32}\.[a-z]+)\.part$")


def _partial_name(stored_name: str) -> str:
    return f".{stored_name}.part"


def _move_into_place(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: nothing is committed yet
    for partial, final in session.info.pop(_PENDING, []):
        try:
            os.replace(partial, final)
        except OSError:
            # The row is committed but its file is not in place: say so loudly; the partial
            # file stays for whoever repairs it (and `uploads-clean` once it is old).
            log.exception("Could not move the upload %s into place", final.name)


def _drop_unsaved(session: Session, transaction: SessionTransaction) -> None:
    # The whole transaction is over without a commit (rolled back, or the session closed at
    # the end of a request that saved nothing): its uploads go with it.
    if transaction.parent is None:
        for partial, _final in session.info.pop(_PENDING, []):
            partial.unlink(missing_ok=True)


# Listened to on every session of the portal from the start, as a pending upload may be added
# to any of them.
event.listen(db.session, "after_commit", _move_into_place)
event.listen(db.session, "after_transaction_end", _drop_unsaved)


def get_attachment(stored_name: str) -> tuple[Attachment, Path]:
    """An uploaded file's record and its path in the uploads folder. Raises NotFound."""
    if not FILE_PATTERN.match(stored_name or ""):
        raise NotFound(_("Không có tệp này."))
    attachment = db.session.execute(
        select(Attachment).where(Attachment.stored_name == stored_name)
    ).scalar_one_or_none()
    path = Path(current_app.config["UPLOAD_DIR"]) / stored_name
    if attachment is None or not path.is_file():
        raise NotFound(_("Không có tệp này."))
    return attachment, path


def attachments_named(names: list[str]) -> dict[str, Attachment]:
    """The attachments among `names`, by stored name (to show their original names)."""
    names = [n for n in names if n]
    if not names:
        return {}
    rows = db.session.execute(select(Attachment).where(Attachment.stored_name.in_(names)))
    return {a.stored_name: a for a in rows.scalars()}


# --- orphans ------------------------------------------------------------------------------------


@dataclass
class Orphan:
    """A file in the uploads folder that no record names: its stored (or partial) name, the
    name it was uploaded under (when it has a row), its size in bytes."""

    name: str
    original_name: str
    size: int


def _named_in_records() -> set[str]:
    """Every stored name a procedure, a draft or a revision names as a dossier template."""
    names = set(
        db.session.execute(
            select(DossierItem.template_file).where(DossierItem.template_file.is_not(None))
        ).scalars()
    )
    for model in (ProcedureDraft, ProcedureRevision):
        for record in db.session.execute(select(model.record).execution_options(yield_per=500)):
            names.update(item.get("template_file") for item in record[0].get("dossier") or [])
    names.discard(None)
    return names


def _stored_name(file_name: str) -> str | None:
    """The stored name a file in the uploads folder holds (its own, or the one a partial file
    is waiting for), or None for a file that is not an upload."""
    if FILE_PATTERN.match(file_name):
        return file_name
    partial = _PARTIAL.match(file_name)
    return partial.group(1) if partial else None


def find_orphans(min_age_seconds: float) -> list[Orphan]:
    """The uploaded files no procedure, draft or revision names, older than `min_age_seconds`
    (so an upload in flight is never one), by name. A partial file whose row was committed
    (it could not be moved into place) is not an orphan: it is that row's only copy."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    if not folder.is_dir():
        return []
    named = _named_in_records()
    rows = dict(db.session.execute(select(Attachment.stored_name, Attachment.original_name)).all())
    cutoff = time.time() - min_age_seconds
    orphans: list[Orphan] = []
    for path in sorted(folder.iterdir()):
        stored = _stored_name(path.name)
        if stored is None or stored in named or (stored != path.name and stored in rows):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # moved into place or deleted meanwhile
        if stat.st_mtime <= cutoff:
            orphans.append(Orphan(path.name, rows.get(path.name, ""), stat.st_size))
    return orphans


@use_case
def _forget(names: list[str]) -> None:
    db.session.execute(delete(Attachment).where(Attachment.stored_name.in_(names)))


def clean_orphans(min_age_seconds: float, *, dry_run: bool = False) -> list[Orphan]:
    """Delete the orphan uploads (see `find_orphans`) and their rows; other files in the
    folder are left alone. With `dry_run`, only list them. Returns the orphans."""
    orphans = find_orphans(min_age_seconds)
    if orphans and not dry_run:
        _forget([o.name for o in orphans])
        # After the rows' commit: a file left by a failure is an orphan again next time.
        folder = Path(current_app.config["UPLOAD_DIR"])
        for orphan in orphans:
            (folder / orphan.name).unlink(missing_ok=True)
    return orphans
