"""Booklets for the web: built in the background, served from PRINT_CACHE_DIR.

Laying a big booklet out takes longer than a request may last (the largest real agency with
its sub-agencies: minutes), so a request never builds one. It asks `ready()`: the PDF when the
cache holds it for the catalogue as it is now; otherwise a build starts in a bounded pool of
threads of this process and the page says "đang chuẩn bị" until it is done. `flask
print-booklets` builds them ahead of time. Builds of one booklet never overlap, across threads
and processes (printing.build_lock).

Knowing whether the cached PDF is current must be cheap too: its fingerprint is a hash of its
whole HTML (seconds for a big booklet). So each booklet keeps a note, <name>.key, of the
fingerprint last computed and the catalogue stamp it was computed at; while the stamp (a few
aggregate queries, see `catalogue_stamp`) is unchanged, the note answers without rendering.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select

from . import editions, printing
from .catalogue import queries
from .db import db, reading
from .errors import NotFound
from .models import Agency, Field, Level, Procedure, SiteSettings, Subject

# How long the "đang chuẩn bị" page waits before it asks again, in seconds.
RETRY_AFTER = 5
MAX_NAME_BYTES = 150  # of a booklet's name, far below a file name's 255 bytes


@dataclass(frozen=True)
class Spec:
    """Which booklet, as plain values: a build thread loads it again in its own session."""

    kind: str  # "agency" or "field"
    slug: str
    with_children: bool = False
    # The interface's language of the booklet when not the portal's default (see `language`).
    language: str | None = None
    # The bilingual edition (services/editions.py): Vietnamese with English beside it.
    bilingual: bool = False

    @property
    def name(self) -> str:
        if self.kind == "field":
            name = f"linh-vuc-{self.slug}"
        else:
            name = f"co-quan-{self.slug}" + ("-truc-thuoc" if self.with_children else "")
        # "_" is in no slug: no other booklet's name; each edition is its own file.
        if self.bilingual:
            name = f"{name}_{editions.BILINGUAL}"
        elif self.language is not None:
            name = f"{name}_{self.language}"
        if len(name.encode()) <= MAX_NAME_BYTES:
            return name
        # The cache's files are named after it (".<fingerprint>.pdf" and ".lock" added): a
        # longer one (a slug typed in an address) is cut and told apart by a hash of it all.
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        return f"{name.encode()[:80].decode(errors='ignore')}-{digest}"

    def load(self) -> printing.Booklet:
        """The booklet now, cached under this spec's name (one file per language). Raises
        NotFound, or EmptyBooklet when it has nothing to print."""
        if self.kind == "field":
            booklet = printing.field_booklet(self.slug)
        else:
            booklet = printing.agency_booklet(self.slug, with_children=self.with_children)
        return replace(booklet, name=self.name)


# --- is the cached PDF current? -----------------------------------------------------------------


@cache
def _code_stamp() -> str:
    """Templates, stylesheets and translations as this process loaded them (a deployment
    restarts the processes, so once per process is enough)."""
    root = Path(current_app.root_path)
    digest = hashlib.sha256()
    for folder in ("templates", "static/css", "translations"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(root)}:{path.stat().st_size}".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def catalogue_stamp() -> str:
    """Changes whenever anything a booklet can show may have changed: every UPDATE of a
    procedure (its parts are written with it), an agency, a lĩnh vực or the settings bumps
    their version; rows added or removed change the counts and the highest id."""
    parts: list[object] = [_code_stamp()]
    for model in (Procedure, Agency, Field, SiteSettings):
        parts.extend(
            db.session.execute(
                select(func.count(), func.coalesce(func.sum(model.version), 0), func.max(model.id))
            ).one()
        )
    parts.append(db.session.execute(select(func.max(Procedure.updated_at))).scalar())
    for model in (Level, Subject):
        parts.extend(db.session.execute(select(model.id, model.name).order_by(model.id)).all())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def _note(name: str) -> Path:
    return printing.cache_dir() / f"{name}.key"


def _noted_key(name: str, stamp: str) -> str | None:
    try:
        note = json.loads(_note(name).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return note.get("key") if note.get("stamp") == stamp else None


def _write_note(name: str, stamp: str, key: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", dir=printing.cache_dir(), suffix=".part", delete=False
    ) as out:
        json.dump({"stamp": stamp, "key": key}, out)
    os.replace(out.name, _note(name))


def language() -> str | None:
    """The interface's language now, for a Spec: None when it is the portal's default."""
    current = str(get_locale())
    return None if current == current_app.config["BABEL_DEFAULT_LOCALE"] else current


def build(spec: Spec, *, wait: bool = True) -> printing.BookletPDF | None:
    """Build the booklet's PDF if the cache lacks the current one and note its fingerprint.
    When another thread or process is building it, wait for its PDF, or with `wait` off
    return None. Raises NotFound / EmptyBooklet."""
    language = spec.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with reading(), force_locale(language), editions.rendering(spec.bilingual):
        stamp = catalogue_stamp()  # before the booklet is read: a later change makes a new stamp
        booklet = spec.load()
        base = printing.configured_base()
        key = printing.booklet_key(booklet, base)
        _write_note(spec.name, stamp, key)
        return printing.booklet_pdf(booklet, base, key, wait=wait)


# --- the request side ---------------------------------------------------------------------------


def ready(spec: Spec) -> printing.BookletPDF | None:
    """The booklet's current PDF, or None after starting its build in the background.

    Raises NotFound / EmptyBooklet (checked before a build is started).
    """
    with reading():
        key = _noted_key(spec.name, catalogue_stamp())
    found = printing.cached_pdf(spec.name, key) if key else None
    if found:
        return found
    if not key:
        with reading():
            spec.load()  # unknown or empty: say so now, not after a build
    _builder(current_app._get_current_object()).submit(spec)
    return None


class _Builder:
    """A few threads that build booklets for this process, each booklet queued once; a booklet
    whose build failed is tried again after PRINT_RETRY_SECONDS, not at every refresh."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self.pool = ThreadPoolExecutor(
            max_workers=int(app.config.get("PRINT_BUILD_THREADS", 1)), thread_name_prefix="booklet"
        )
        self.lock = threading.Lock()
        self.queued: set[str] = set()
        self.failed: dict[str, float] = {}

    def submit(self, spec: Spec) -> None:
        retry = float(self.app.config.get("PRINT_RETRY_SECONDS", 60))
        with self.lock:
            if spec.name in self.queued:
                return
            if time.monotonic() - self.failed.get(spec.name, -retry) < retry:
                return
            self.queued.add(spec.name)
        self.pool.submit(self._run, spec)

    def _run(self, spec: Spec) -> None:
        try:
            with self.app.app_context():
                self._build(spec)
        finally:
            with self.lock:
                self.queued.discard(spec.name)

    def _build(self, spec: Spec) -> None:
        started = time.perf_counter()
        try:
            result = build(spec, wait=False)  # None: another process builds it
        except NotFound:
            return  # deleted or emptied meanwhile: the next request says so
        except Exception:
            self.app.logger.exception("building booklet %s failed; will retry", spec.name)
            with self.lock:
                self.failed[spec.name] = time.monotonic()
            return
        with self.lock:
            self.failed.pop(spec.name, None)
        if result and result.built:
            seconds = time.perf_counter() - started
            self.app.logger.info("built booklet %s in %.1f s", spec.name, seconds)


_builders_lock = threading.Lock()


def _builder(app: Flask) -> _Builder:
    """This process's builder for `app` (a fresh one after a fork: threads do not survive it).
    Kept on the app, so it goes, threads and all, when the app does."""
    with _builders_lock:
        builder = app.extensions.get("booklets")
        if builder is None or builder.pid != os.getpid():
            builder = app.extensions["booklets"] = _Builder(app)
        return builder


# --- ahead of time ------------------------------------------------------------------------------


def every_spec(agency: str | None = None) -> list[Spec]:
    """The booklets the site links to: each agency's (and with its sub-agencies when it has
    some) and each lĩnh vực's; with `agency`, only that agency's; in the interface's language
    (LANGUAGE, `TTHC_LANGUAGE=en`, on the command line). Raises NotFound."""
    spec = partial(Spec, language=language())
    if agency:
        node = queries.get_agency(agency)
        specs = [spec("agency", agency)]
        return specs + ([spec("agency", agency, True)] if node.children else [])
    specs = []
    for found in db.session.execute(select(Agency).order_by(Agency.slug)).scalars():
        specs.append(spec("agency", found.slug))
        if found.children:
            specs.append(spec("agency", found.slug, True))
    for found in db.session.execute(select(Field).order_by(Field.slug)).scalars():
        specs.append(spec("field", found.slug))
    return specs
