"""Command-line interface: thin click wrappers over the services (`flask --help` lists them)."""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from . import accounts, audit, backup, booklets, importers, mail, printing, search, uploads
from .catalogue import transfer
from .db import create_schema, reading, schema_problem
from .editorial import review
from .errors import NotFound, ValidationError
from .models import StaffRole
from .opendata import cpsv


@click.command("init-db")
@with_appcontext
@click.option(
    "--demo-if-empty", is_flag=True, help="Also load the demo catalogue into an empty database."
)
@click.option(
    "--base-url",
    help="Where the portal is served (make run): becomes the base URL of QR codes, unless the "
    "settings name one other than the demo's default.",
)
def init_db_command(demo_if_empty: bool, base_url: str | None) -> None:
    """Create the database tables and instance folders (safe to run again)."""
    create_schema()
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    click.echo(_("Cơ sở dữ liệu đã sẵn sàng: %(uri)s", uri=uri))
    if demo_if_empty:
        if transfer.is_empty():
            report = transfer.load_demo()
            n = report.procedures.total()
            click.echo(
                ngettext(
                    "Đã nạp danh mục mẫu: %(n)s thủ tục.",
                    "Đã nạp danh mục mẫu: %(n)s thủ tục.",
                    n,
                    n=n,
                )
            )
        else:
            click.echo(_("Danh mục đã có dữ liệu: không nạp danh mục mẫu."))
    if base_url is not None:
        _adopt_base_url(base_url)


def _adopt_base_url(url: str) -> None:
    try:
        changed = transfer.adopt_base_url(url)
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    base = printing.configured_base()
    if changed:
        click.echo(_("Địa chỉ trang thông tin (mã QR): %(url)s", url=base))
    else:
        click.echo(_("Giữ địa chỉ trang thông tin đã đặt: %(url)s", url=base))
    if warning := printing.local_base_warning(base):
        click.echo(warning)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the project's demo catalogue (upserts by code; other procedures are kept)."""
    create_schema()
    report = transfer.load_demo()
    _echo_report(report)


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--format", "kind", type=click.Choice(["catalogue", "cpsv-ap"]), default="catalogue",
    help="catalogue: the JSON catalogue file (all procedures); cpsv-ap: the published ones in "
    "CPSV-AP 3.2.0 JSON-LD.",
)  # fmt: skip
def export_command(path: Path, kind: str) -> None:
    """Write the whole catalogue to PATH as one JSON catalogue file (or as CPSV-AP)."""
    try:
        with reading():
            count = cpsv.write(path) if kind == "cpsv-ap" else transfer.write_export(path)
    except ValidationError as error:  # CPSV-AP needs the base URL of the site settings
        raise click.ClickException(str(error)) from None
    click.echo(
        ngettext(
            "Đã xuất %(n)s thủ tục ra %(path)s.",
            "Đã xuất %(n)s thủ tục ra %(path)s.",
            count,
            n=count,
            path=path,
        )
    )


@click.command("export-csv")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--all", "everything", is_flag=True, help="Include drafts, not only public ones.")
def export_csv_command(path: Path, everything: bool) -> None:
    """Write the list of procedures to PATH as CSV for spreadsheets."""
    with reading():
        text = transfer.procedures_csv(public=not everything)
    path.write_text(text, encoding="utf-8")
    click.echo(_("Đã ghi %(path)s.", path=path))


@click.command("import")
@with_appcontext
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option(
    "--agency-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file mapping generic agencies to this locality's own "
    "(default: agency-map.toml in the instance folder, when present).",
)
def import_command(paths: tuple[Path, ...], dry_run: bool, agency_map: Path | None) -> None:
    """Import procedures from catalogue files and the national portal's exports (files or
    folders, read recursively), upserting by code."""
    default_map = Path(current_app.instance_path) / "agency-map.toml"
    agency_map = agency_map or (default_map if default_map.is_file() else None)
    files = importers.files_in(paths)
    try:
        mapping = importers.read_mapping(agency_map) if agency_map else None
        if _on_terminal():
            with click.progressbar(length=len(files), label=_("Đang nhập")) as bar:
                report = importers.run_import(
                    files, dry_run=dry_run, mapping=mapping, progress=lambda _: bar.update(1)
                )
        else:
            report = importers.run_import(files, dry_run=dry_run, mapping=mapping)
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    for path, reason in report.unread:
        click.echo(_("  Không đọc %(path)s: %(reason)s", path=path, reason=reason))
    click.echo(_("Số tệp đã đọc: %(read)s/%(total)s", read=report.files, total=len(files)))
    _echo_report(report)
    click.echo(_("  Thời gian: %(seconds).1f giây", seconds=report.seconds))
    if report.files == 0:
        raise click.ClickException(_("Không đọc được tệp nào."))


def _on_terminal() -> bool:
    return sys.stdout.isatty()


@click.command("search-reindex")
@with_appcontext
def search_reindex_command() -> None:
    """Rebuild the search index from the database; searches keep working meanwhile."""
    started = time.perf_counter()
    try:
        count = search.rebuild()
    except TimeoutError:
        raise click.ClickException(
            _("Chỉ mục đang được ghi quá lâu (một lần dựng lại khác?); hãy thử lại sau.")
        ) from None
    seconds = time.perf_counter() - started
    click.echo(
        ngettext(
            "Đã dựng lại chỉ mục tìm kiếm: %(n)s thủ tục trong %(seconds).1f giây.",
            "Đã dựng lại chỉ mục tìm kiếm: %(n)s thủ tục trong %(seconds).1f giây.",
            count,
            n=count,
            seconds=seconds,
        )
    )


@click.command("search-check")
@with_appcontext
@click.option("--limit", default=20, show_default=True, help="Codes listed per kind of problem.")
def search_check_command(limit: int) -> None:
    """List procedures missing from the search index or indexed from older data."""
    report = search.check()
    click.echo(
        ngettext(
            "Trong chỉ mục: %(n)s thủ tục; thay đổi đang chờ ghi: %(pending)s.",
            "Trong chỉ mục: %(n)s thủ tục; thay đổi đang chờ ghi: %(pending)s.",
            report.indexed,
            n=report.indexed,
            pending=report.pending,
        )
    )
    for label, codes in (
        (_("Thiếu trong chỉ mục"), report.missing),
        (_("Chỉ mục còn theo dữ liệu cũ"), report.stale),
        (_("Có trong chỉ mục nhưng không còn trong cơ sở dữ liệu"), report.extra),
    ):
        if codes:
            rest = len(codes) - limit
            more = (
                ngettext(" … và %(n)s mã nữa", " … và %(n)s mã nữa", rest, n=rest)
                if rest > 0
                else ""
            )
            click.echo(f"{label} ({len(codes)}): {', '.join(codes[:limit])}{more}")
    if report.without_vectors:
        if report.model:
            click.echo(
                ngettext(
                    "Chưa có vectơ ngữ nghĩa: %(n)s thủ tục (mô hình %(model)s).",
                    "Chưa có vectơ ngữ nghĩa: %(n)s thủ tục (mô hình %(model)s).",
                    report.without_vectors,
                    n=report.without_vectors,
                    model=report.model,
                )
            )
        else:
            click.echo(
                ngettext(
                    "Chưa có vectơ ngữ nghĩa: %(n)s thủ tục; chưa cài mô hình nhúng câu nên "
                    "tìm kiếm chỉ theo từ ngữ.",
                    "Chưa có vectơ ngữ nghĩa: %(n)s thủ tục; chưa cài mô hình nhúng câu nên "
                    "tìm kiếm chỉ theo từ ngữ.",
                    report.without_vectors,
                    n=report.without_vectors,
                )
            )
    for problem in report.damage[:limit]:
        click.echo(_("Chỉ mục bị hỏng: %(problem)s", problem=problem))
    if report.unwritable:
        click.echo(
            _(
                "Không ghi được vào chỉ mục (%(problem)s): các thay đổi đang chờ sẽ được ghi "
                "khi thư mục chỉ mục ghi được trở lại.",
                problem=report.unwritable,
            )
        )
    if not report.ok:
        click.echo(_("Hãy chạy `flask search-reindex` để dựng lại chỉ mục."))
        sys.exit(1)
    click.echo(_("Chỉ mục tìm kiếm khớp với cơ sở dữ liệu."))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in StaffRole]), help="What it may do."
)
@click.option("--agency", "agencies", multiple=True, help="Slug of an agency it works for.")
@click.option("--name", "full_name", default="", help="The person's full name.")
@click.option("--email", default="", help="The person's e-mail address.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    username: str,
    role: str,
    agencies: tuple[str, ...],
    full_name: str,
    email: str,
    password_stdin: bool,
) -> None:
    """Create a staff account (the password is asked for, or read from standard input)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            _("Mật khẩu"), hide_input=True, confirmation_prompt=_("Nhập lại mật khẩu")
        )
    account = accounts.Account(username, role, list(agencies), full_name, email)
    try:
        user = accounts.create_user(account, password)
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Đã tạo tài khoản %(role)s %(username)s.", role=user.role, username=user.username))


@click.command("print-booklet")
@with_appcontext
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--agency", metavar="SLUG", help="The agency whose procedures to print.")
@click.option("--field", metavar="SLUG", help="The lĩnh vực whose procedures to print.")
@click.option(
    "--with-children", is_flag=True, help="With --agency: add its sub-agencies' procedures."
)
@click.option("--base-url", help="The portal's address for QR codes, instead of the settings'.")
def print_booklet_command(
    out: Path, agency: str | None, field: str | None, with_children: bool, base_url: str | None
) -> None:
    """Write the PDF booklet of an agency's or a lĩnh vực's published procedures to OUT."""
    if bool(agency) == bool(field):
        raise click.UsageError(_("Cần đúng một trong hai tùy chọn --agency hoặc --field."))
    if with_children and not agency:
        raise click.UsageError(_("--with-children chỉ dùng cùng --agency."))
    with reading():
        try:
            booklet = (
                printing.agency_booklet(agency, with_children=with_children)
                if agency
                else printing.field_booklet(field)
            )
            base = printing.absolute_base(base_url) if base_url else printing.portal_base()
        except NotFound as error:
            raise click.ClickException(str(error)) from None
        except ValidationError as error:
            hint = _("Hãy cho địa chỉ bằng --base-url URL.")
            raise click.ClickException(f"{error} {hint}") from None
        result = printing.booklet_pdf(booklet, base)
    out.write_bytes(result.data)
    click.echo(
        ngettext(
            "Đã ghi %(out)s: %(n)s thủ tục%(cached)s.",
            "Đã ghi %(out)s: %(n)s thủ tục%(cached)s.",
            len(booklet.procedures),
            out=out,
            n=len(booklet.procedures),
            cached="" if result.built else _(" (bản đã lập sẵn, không có gì thay đổi)"),
        )
    )


@click.command("print-booklets")
@with_appcontext
@click.option("--agency", metavar="SLUG", help="Only this agency's booklets.")
def print_booklets_command(agency: str | None) -> None:
    """Build the booklets the web serves (every agency's and lĩnh vực's) into the print cache."""
    try:
        with reading():
            specs = booklets.every_spec(agency)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    for spec in specs:
        try:
            result = booklets.build(spec)
        except NotFound:
            continue  # nothing published to print
        state = _("đã lập") if result.built else _("không đổi")
        click.echo(f"  {spec.name}: {state}")


@click.command("uploads-clean")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="List the orphan files; delete nothing.")
@click.option(
    "--older-than",
    "hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Only files at least this many hours old, so an upload in flight is never removed.",
)
def uploads_clean_command(dry_run: bool, hours: int) -> None:
    """Delete uploaded files that no procedure, draft or revision names."""
    orphans = uploads.clean_orphans(hours * 3600, dry_run=dry_run)
    for orphan in orphans:
        click.echo(f"  {orphan.name}  {orphan.original_name or '—'}  ({orphan.size} B)")
    kb = round(sum(o.size for o in orphans) / 1024, 1)
    if dry_run:
        click.echo(
            ngettext(
                "Chạy thử, không xóa gì: %(n)s tệp mồ côi (%(kb)s KB).",
                "Chạy thử, không xóa gì: %(n)s tệp mồ côi (%(kb)s KB).",
                len(orphans),
                n=len(orphans),
                kb=kb,
            )
        )
    else:
        click.echo(
            ngettext(
                "Đã xóa %(n)s tệp mồ côi (%(kb)s KB).",
                "Đã xóa %(n)s tệp mồ côi (%(kb)s KB).",
                len(orphans),
                n=len(orphans),
                kb=kb,
            )
        )


@click.command("review-digest")
@with_appcontext
def review_digest_command() -> None:
    """E-mail each publisher the list of drafts waiting for their review (for a daily timer)."""
    if not mail.configured():
        click.echo(_("Chưa cấu hình máy chủ thư (MAIL_SERVER): không gửi thư nào."))
        return
    report = review.send_digests()
    click.echo(
        _("Đã gửi %(n)s thư tóm tắt; %(e)s người duyệt không có bản nào chờ, %(a)s người chưa có "
          "địa chỉ thư.", n=report.sent, e=report.nothing, a=report.no_address)
    )  # fmt: skip
    if report.failed:
        raise Refused(_("%(n)s thư không gửi được (xem nhật ký).", n=report.failed))


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write the database, uploads and settings to PATH as one .tar.gz (safe while serving)."""
    try:
        manifest = backup.create(path)
    except backup.BackupError as error:
        raise Refused(str(error)) from None
    _echo_counts(manifest)
    for name in manifest["missing_uploads"]:
        click.echo(
            _("  Cơ sở dữ liệu có tên tệp %(name)s nhưng thư mục tải lên không có.", name=name)
        )
    click.echo(_("Đã sao lưu vào %(path)s.", path=path))


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Put a backup from PATH back into this empty instance, then rebuild the search index."""
    try:
        manifest = backup.restore(path)
    except backup.BackupError as error:
        raise Refused(str(error)) from None
    _echo_counts(manifest)
    click.echo(
        _("Đã phục hồi từ %(path)s (sao lưu lúc %(at)s).", path=path, at=manifest["created_at"])
    )


@click.command("audit-purge")
@with_appcontext
def audit_purge_command() -> None:
    """Delete audit entries older than AUDIT_RETENTION_DAYS (without it, keep everything)."""
    click.echo(_("Đã xóa %(n)s mục nhật ký cũ.", n=audit.purge()))


def _echo_counts(manifest: dict) -> None:
    counts = ", ".join(f"{key} {value}" for key, value in manifest["counts"].items())
    click.echo(f"  {counts}")


def _echo_report(report: transfer.ImportReport) -> None:
    prefix = _("Chạy thử, không thay đổi gì. ") if report.dry_run else ""
    for label, counts in (
        (_("Thủ tục"), report.procedures),
        (_("Cơ quan"), report.agencies),
        (_("Lĩnh vực"), report.fields),
    ):
        parts = _(
            "tạo mới %(created)s, cập nhật %(updated)s, không đổi %(unchanged)s",
            created=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
        )
        if counts is report.procedures:
            parts += _(", bỏ qua %(n)s", n=len(report.skipped))
        click.echo(f"  {prefix}{label}: {parts}")
    for skip in report.skipped:
        click.echo(
            _(
                "  Bỏ qua %(file)s %(label)s: %(reason)s",
                file=skip.file,
                label=skip.label,
                reason=skip.reason,
            )
        )


# The commands that make or move the schema themselves, so they run on any database: ours
# that upgrade it first (restore: after loading the archive's), and Flask-Migrate's `db` group.
MAKES_SCHEMA = frozenset({"init-db", "seed-demo", "db", "restore"})


class Refused(click.ClickException):
    """A command that cannot run here: its one-line message, no traceback, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def _needs_schema(command: click.Command) -> None:
    """Make `command` first check that the database's schema is the code's, and otherwise
    refuse in one line saying what to run (`flask init-db`, `flask db upgrade`)."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _needs_schema(subcommand)
    callback = command.callback
    if callback is None or getattr(callback, "checks_schema", False):
        return

    @with_appcontext
    @functools.wraps(callback)
    def checked(*args, **kwargs):
        problem = schema_problem()
        if problem:
            raise Refused(problem)
        return callback(*args, **kwargs)

    checked.checks_schema = True
    command.callback = checked


def init_app(app: Flask) -> None:
    """Register the commands on the app's `flask` CLI; every command on it (also those other
    modules registered) checks the database's schema before it runs, but those that make it."""
    for command in (
        init_db_command,
        seed_demo_command,
        export_command,
        export_csv_command,
        import_command,
        search_reindex_command,
        search_check_command,
        create_user_command,
        print_booklet_command,
        print_booklets_command,
        uploads_clean_command,
        review_digest_command,
        backup_command,
        restore_command,
        audit_purge_command,
    ):
        app.cli.add_command(command)
    for name, command in app.cli.commands.items():
        if name not in MAKES_SCHEMA:
            _needs_schema(command)
