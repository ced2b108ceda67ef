"""Every flask command on a new instance (no tables yet) and on a database whose schema is behind
the code: it works, or it says in one line what to run and exits non-zero, never with a
traceback. The commands are discovered from the app's CLI, so a new one is covered too."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import Flask

from services.cli import MAKES_SCHEMA
from services.db import create_schema, db
from services.models import Procedure
from tests.helpers import close_app, make_app

NOT_CREATED = "Cơ sở dữ liệu chưa được tạo: hãy chạy `flask init-db`."
BEHIND = "Cơ sở dữ liệu cũ hơn mã nguồn: hãy chạy `flask db upgrade`."
PASSWORD = "mat-khau-du-dai\nmat-khau-du-dai\n"


def _commands() -> list[str]:
    """The commands of the app's CLI that need a schema made beforehand."""
    with tempfile.TemporaryDirectory() as folder:
        application = make_app(Path(folder) / "instance")
        names = sorted(name for name in application.cli.commands if name not in MAKES_SCHEMA)
        close_app(application)
    return names


COMMANDS = _commands()


def _arguments(command: click.Command, folder: Path) -> list[str]:
    """Arguments a user could give: an existing file for a path that must exist, a new file
    for another path, the first choice of a required option, a word otherwise."""
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            if isinstance(param.type, click.Path):
                path = folder / f"{param.name}.json"
                if param.type.exists:
                    path.write_text("{}", encoding="utf-8")
                args.append(str(path))
            else:
                args.append("ten-thu")
        elif param.required:
            choices = getattr(param.type, "choices", None)
            args += [param.opts[0], str(choices[0]) if choices else "ten-thu"]
    return args


def _run(application: Flask, name: str, folder: Path):
    command = application.cli.commands[name]
    return application.test_cli_runner().invoke(
        args=[name, *_arguments(command, folder)], input=PASSWORD
    )


def _refused_in_one_line(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert result.output.strip() == message
    assert "Traceback" not in result.output


@pytest.fixture
def new_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a new instance: nothing created in its database."""
    application = make_app(tmp_path / "instance")
    yield application
    close_app(application)


@pytest.fixture
def behind_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose database lacks the latest migration (the code was updated, not the data)."""
    application = make_app(tmp_path / "instance")
    with application.app_context():
        config = application.extensions["migrate"].migrate.get_config()
        (head,) = ScriptDirectory.from_config(config).get_heads()
        previous = ScriptDirectory.from_config(config).get_revision(head).down_revision
        flask_migrate.upgrade(revision=previous)
    yield application
    close_app(application)


def test_the_commands_are_discovered():
    assert {"import", "export", "create-user", "search-check", "uploads-clean"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_on_a_new_instance_says_to_create_the_database(new_app, tmp_path, name):
    _refused_in_one_line(_run(new_app, name, tmp_path), NOT_CREATED)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_on_a_schema_behind_says_to_upgrade(behind_app, tmp_path, name):
    _refused_in_one_line(_run(behind_app, name, tmp_path), BEHIND)


@pytest.mark.parametrize("name", ["init-db", "seed-demo"])
def test_the_commands_that_make_the_schema_work_on_a_new_or_old_database(
    new_app, behind_app, tmp_path, name
):
    for application in (new_app, behind_app):
        result = _run(application, name, tmp_path)
        assert result.exit_code == 0, result.output
        runner = application.test_cli_runner()
        assert runner.invoke(args=["export", str(tmp_path / "out.json")]).exit_code == 0


def test_db_upgrade_brings_an_old_database_to_the_code(behind_app, tmp_path):
    runner = behind_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with behind_app.app_context():
        assert db.session.query(Procedure).count() > 0


def test_a_database_newer_than_the_code_is_named(new_app, tmp_path):
    with new_app.app_context():
        create_schema()
        db.session.execute(db.text("UPDATE alembic_version SET version_num = 'ffff0000ffff'"))
        db.session.commit()
    result = _run(new_app, "export", tmp_path)
    _refused_in_one_line(
        result,
        "Cơ sở dữ liệu ở phiên bản ffff0000ffff, mới hơn mã nguồn này: hãy cập nhật mã nguồn.",
    )


def test_an_unreachable_database_is_said_in_one_line(tmp_path):
    folder = tmp_path / "co-so-du-lieu"
    folder.mkdir()
    application = make_app(
        tmp_path / "instance", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'tthc.sqlite3'}"
    )
    with application.app_context():
        db.engine.dispose()
    shutil.rmtree(folder)  # the disk holding the database went away
    result = _run(application, "export", tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith("Không kết nối được cơ sở dữ liệu: ")
    assert len(result.output.strip().splitlines()) == 1
