"""The use-case transaction boundary (services.db) and optimistic locking that holds when
another writer commits between a use case's read and its UPDATE (PostgreSQL's READ COMMITTED
allows that; the version column checked in the UPDATE must catch it)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from services import accounts
from services.catalogue import queries, records, store
from services.db import db, transaction, use_case
from services.editorial import admin, workflow, working_copy
from services.errors import EditConflict
from services.models import Agency, Field, User


def _count_agencies() -> int:
    return len(db.session.execute(select(Agency.id)).all())


def _new_agency(slug: str) -> None:
    store.store_agency(records.normalize_agency({"slug": slug, "name": slug}))


def test_a_use_case_commits_once_at_its_end(app):
    @use_case
    def create(slug: str) -> None:
        _new_agency(slug)

    with app.app_context():
        create("co-quan-mot")
        db.session.rollback()  # nothing left to roll back: it was committed
        assert _count_agencies() == 1


def test_a_use_case_that_raises_leaves_nothing(app):
    @use_case
    def create_then_fail(slug: str) -> None:
        _new_agency(slug)
        raise RuntimeError("disk full")

    with app.app_context():
        with pytest.raises(RuntimeError, match="disk full"):
            create_then_fail("co-quan-hai")
        assert _count_agencies() == 0


def test_a_nested_use_case_leaves_the_commit_to_the_outermost(app):
    @use_case
    def inner(slug: str) -> None:
        _new_agency(slug)

    @use_case
    def outer(slug: str) -> None:
        inner(slug)
        raise RuntimeError("the outer unit fails after the inner one ended")

    with app.app_context():
        with pytest.raises(RuntimeError):
            outer("co-quan-ba")
        assert _count_agencies() == 0


def test_a_dry_run_transaction_keeps_nothing(app):
    with app.app_context():
        with transaction(commit=False):
            _new_agency("co-quan-bon")
            assert _count_agencies() == 1
        assert _count_agencies() == 0


def test_on_error_sees_the_arguments_after_the_rollback(app):
    seen = []

    def on_error(error, slug):
        seen.append((type(error).__name__, slug, _count_agencies()))

    @use_case(on_error=on_error)
    def create_then_fail(slug: str) -> None:
        _new_agency(slug)
        raise KeyError(slug)

    with app.app_context(), pytest.raises(KeyError):
        create_then_fail("co-quan-nam")
    assert seen == [("KeyError", "co-quan-nam", 0)]


def _bump(table: str, where: str) -> None:
    """Another writer's commit as our session will meet it: the row's version moves on while
    the object this session already loaded still holds the old one, so the form's token still
    matches and only the version check in the UPDATE can notice. (The bump runs in our own
    transaction, so the use case's rollback undoes it too: the conflict then shows the row as
    it was.)"""
    db.session.execute(text(f"UPDATE {table} SET version = version + 1 WHERE {where}"))


def _user(name: str) -> User:
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def test_an_agency_changed_between_read_and_update_is_a_conflict(staff_app):
    with staff_app.app_context():
        user = _user("admin")
        agency, record = admin.get_agency("phong-a", user)
        token = admin.version_token(agency)
        _bump("agency", "slug = 'phong-a'")
        with pytest.raises(EditConflict) as caught:
            admin.save_agency("phong-a", {**record, "phone": "0227 1"}, token, user)
        assert caught.value.token == token
        assert queries.get_agency("phong-a").phone == ""


def test_a_field_changed_between_read_and_update_is_a_conflict(staff_app):
    with staff_app.app_context():
        user = _user("admin")
        field = admin.get_field("ho-tich", user)
        token = admin.version_token(field)
        _bump("field", "slug = 'ho-tich'")
        with pytest.raises(EditConflict):
            admin.save_field("ho-tich", {"name": "Hộ tịch mới"}, token, user)
        name = db.session.execute(select(Field.name).where(Field.slug == "ho-tich")).scalar()
        assert name == "Hộ tịch"


def test_settings_changed_between_read_and_update_are_a_conflict(staff_app):
    with staff_app.app_context():
        user = _user("admin")
        admin.save_settings({"portal_name": "Cổng A"}, "0", user)
        settings, record = admin.get_settings(user)
        token = admin.version_token(settings)
        _bump("site_settings", "1 = 1")
        with pytest.raises(EditConflict):
            admin.save_settings({**record, "portal_name": "Cổng B"}, token, user)
        assert queries.get_settings().portal_name == "Cổng A"


def test_a_stale_form_token_is_refused_before_anything_is_written(staff_app):
    with staff_app.app_context():
        user = _user("admin")
        agency, record = admin.get_agency("phong-b", user)
        old = admin.version_token(agency)
        admin.save_agency("phong-b", {**record, "phone": "1"}, old, user)
        with pytest.raises(EditConflict) as caught:
            admin.save_agency("phong-b", {**record, "phone": "2"}, old, user)
        assert caught.value.record["phone"] == "1"


def test_a_procedure_changed_between_read_and_update_is_a_conflict(staff_app):
    with staff_app.app_context():
        editor = _user("editor")
        copy = working_copy.get_working_copy("1.000002", editor)
        _bump("procedure", "code = '1.000002'")
        with pytest.raises(EditConflict) as caught:
            workflow.save_procedure(
                "1.000002", {**copy.record, "name": "Tên mới"}, copy.token, editor
            )
        assert caught.value.record["name"] == copy.record["name"]
        assert queries.get_procedure("1.000002", public=False).name != "Tên mới"


def test_a_failed_login_is_kept_although_the_login_fails(staff_app):
    with staff_app.app_context():
        for _ in range(5):
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate("editor", "sai mật khẩu", "10.0.0.1")
        with pytest.raises(accounts.LockedOut):
            accounts.authenticate("editor", "mat-khau-thu-nghiem", "10.0.0.1")
