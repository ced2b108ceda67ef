"""The database: the SQLAlchemy object and declarative base, SQLite's locking, and the one
transaction boundary of the use cases.

A use case (one public service function that changes data) runs inside `transaction`: it
commits once at its end and rolls back on any exception; helpers only flush. Work that only
reads, however long, runs inside `reading()` so that on SQLite it never holds the write lock.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, has_request_context, request
from flask_babel import gettext as _
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column


class Base(DeclarativeBase):
    # Named constraints, so that migrations can drop or alter them on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Versioned:
    """Optimistic locking, the one scheme for everything staff edit: every UPDATE checks and
    bumps `version` (`UPDATE … WHERE version = <the version read>`), so a write based on a
    stale read fails with StaleDataError on every database, even when another transaction
    committed in between; use cases turn that into EditConflict. Forms quote the version they
    were loaded with."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


db = SQLAlchemy(model_class=Base)


def init_app(app: Flask) -> None:
    """Bind the database to the app; on SQLite, make transactions and savepoints real."""
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them in
    # reverse); the extension's then finds no session left to close.
    app.teardown_appcontext(_end_session)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


def _end_session(_error: BaseException | None) -> None:
    """Close the request's session. The answer is already made: a connection that died since
    (the database server restarting) must not turn it into an error, as the closing ROLLBACK
    would. Such a connection is discarded instead of returned to the pool."""
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        current_app.logger.warning("database connection lost at the end of a request: %s", error)
        with contextlib.suppress(SQLAlchemyError):
            db.session.registry().invalidate()
        db.session.registry.clear()


def _sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling commits a savepoint's RELEASE when no BEGIN was sent,
    # which breaks one-transaction imports: take it over (SQLAlchemy's pysqlite documentation,
    # "Serializable isolation / Savepoints / Transactional DDL"). WAL lets readers in other
    # processes work while a writer holds the database; the busy timeout makes writers queue.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 15000")
    cursor.close()


_reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Mark work that only reads, however long (index builds, exports, booklets): on SQLite its
    transactions do not take the write lock, so staff keep saving meanwhile. A transaction in
    it that starts with a write still queues for the lock."""
    token = _reading_only.set(True)
    try:
        yield
    finally:
        _reading_only.reset(token)


def _sqlite_begin(connection) -> None:
    # In WAL mode a deferred transaction that read first and then writes fails at once ("database
    # is locked", no waiting) when another process committed in between. Work that may write
    # (form posts, commands, scripts) therefore takes the write lock up front and queues behind
    # the busy timeout; page views and work marked `reading()` stay deferred and never wait.
    deferred = _reading_only.get() or (has_request_context() and request.method in ("GET", "HEAD"))
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def utcnow() -> datetime:
    """The current time in UTC without tzinfo (stored naive, read as UTC everywhere)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def create_schema() -> None:
    """Bring the database schema up to date by running the migrations it has not had yet."""
    flask_migrate.upgrade()


def schema_problem() -> str | None:
    """What keeps the database from serving this code, as one line saying what to do; None
    when its schema is at the code's latest migration. Compares the Alembic revisions the
    database has with the heads of migrations/; works on every database."""
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _("Không kết nối được cơ sở dữ liệu: %(reason)s", reason=reason)
    if current == heads:
        return None
    if not current:
        return _("Cơ sở dữ liệu chưa được tạo: hãy chạy `flask init-db`.")
    known = {revision.revision for revision in script.walk_revisions()}
    if current <= known:
        return _("Cơ sở dữ liệu cũ hơn mã nguồn: hãy chạy `flask db upgrade`.")
    return _(
        "Cơ sở dữ liệu ở phiên bản %(rev)s, mới hơn mã nguồn này: hãy cập nhật mã nguồn.",
        rev=", ".join(sorted(current - known)),
    )


# --- the use-case transaction boundary ---------------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R")
_DEPTH = "transaction_depth"


@contextlib.contextmanager
def transaction(*, commit: bool = True) -> Iterator[None]:
    """One unit of work: committed when the block ends (rolled back instead with
    `commit=False`, for dry runs), rolled back when anything in it raises. Inside another
    unit of the same session it does neither: the outermost one decides (Superset's
    `@transaction`, Indico's request handler). Nesting is counted per session, so work done in
    a session of its own (the search index, written from an after-commit hook) is a unit of
    its own."""
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    try:
        if depth:
            yield
            return
        try:
            yield
            if commit:
                db.session.commit()
            else:
                db.session.rollback()
        except BaseException:
            db.session.rollback()
            raise
    finally:
        info[_DEPTH] = depth


def use_case(
    function: Callable[P, R] | None = None,
    /,
    *,
    on_error: Callable[..., None] | None = None,
) -> Any:
    """Run a service function as one transaction (see `transaction`).

    `on_error(error, *args, **kwargs)` runs after the rollback, with the function's own
    arguments, to turn a database error into the service's own (a concurrent update into
    EditConflict, a unique clash into ValidationError); it raises, or returns to let the
    original error through."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            outermost = not db.session.info.get(_DEPTH)
            try:
                with transaction():
                    return fn(*args, **kwargs)
            except Exception as error:
                if on_error is not None and outermost:
                    on_error(error, *args, **kwargs)
                raise

        return run

    return decorate(function) if function is not None else decorate
