"""Catalogue services, called directly: agencies, grouping, visibility, upserts."""

import pytest

from services.catalogue import convert, queries, records, store
from services.db import db
from services.errors import NotFound, ValidationError
from tests.helpers import procedure_raw


def _implementing(slug):
    return [{"role": "implementing", "agency": slug, "name": ""}]


def test_agency_tree_nests_children_with_counts(app, make_agency, make_procedure):
    top = make_agency(slug="ubnd", name="UBND huyện", kind="people_committee")
    make_agency(slug="phong-b", name="Phòng B", parent="ubnd", position=2)
    make_agency(slug="phong-a", name="Phòng A", parent="ubnd", position=1)
    make_procedure(agencies=_implementing("phong-b"))
    make_procedure(agencies=_implementing("phong-b"), status="draft")
    with app.app_context():
        tree = queries.agency_tree()
    assert [n.agency.slug for n in tree] == [top.slug]
    assert [(n.agency.slug, n.count) for n in tree[0].children] == [("phong-a", 0), ("phong-b", 1)]


def test_agency_procedures_group_by_field_in_vietnamese_order(app, make_agency, make_procedure):
    make_agency(slug="p", name="Phòng")
    for name, field in [
        ("Đăng ký kết hôn", "Hộ tịch"),
        ("Đăng ký khai sinh", "Hộ tịch"),
        ("Dịch vụ khác", "Hộ tịch"),
        ("Chứng thực bản sao", "Chứng thực"),
        ("Ân giảm", "Đất đai"),
    ]:
        make_procedure(name=name, fields=[field], agencies=_implementing("p"))
    with app.app_context():
        groups = queries.agency_procedures(queries.get_agency("p"))
        titles = [g.title for g in groups]
        names = [[p.name for p in g.procedures] for g in groups]
    assert titles == ["Chứng thực", "Đất đai", "Hộ tịch"]  # Đ after D and C
    assert names[2] == ["Dịch vụ khác", "Đăng ký kết hôn", "Đăng ký khai sinh"]


def test_get_procedure_hides_drafts_from_the_public(app, make_procedure):
    draft = make_procedure(status="draft")
    with app.app_context():
        with pytest.raises(NotFound):
            queries.get_procedure(draft.code)
        assert queries.get_procedure(draft.code, public=False).code == draft.code
        with pytest.raises(NotFound):
            queries.get_agency("khong-co")


def test_store_procedure_reports_created_updated_unchanged(app, make_agency):
    make_agency(slug="p")
    raw = procedure_raw(agencies=_implementing("p"), updated_at="2025-01-01T00:00:00Z")
    with app.app_context():
        record = records.normalize_procedure(raw)
        assert store.store_procedure(record)[1] == "created"
        db.session.commit()
        assert store.store_procedure(record)[1] == "unchanged"
        changed = records.normalize_procedure({**raw, "name": "Tên mới"})
        procedure, outcome = store.store_procedure(changed)
        db.session.commit()
        assert outcome == "updated"
        assert procedure.name == "Tên mới"
        assert convert.procedure_record(procedure) == {
            **changed,
            "created_at": procedure.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def test_store_procedure_refuses_unknown_agency(app):
    with app.app_context():
        record = records.normalize_procedure(procedure_raw(agencies=_implementing("khong-co")))
        with pytest.raises(ValidationError):
            store.store_procedure(record)


def test_browse_counts_published_procedures(app, make_agency, make_procedure):
    make_agency(slug="p", name="Phòng P")
    make_agency(slug="cu", name="Phòng cũ", valid_to="2020-01-01")
    make_procedure(levels=["Cấp xã"], agencies=_implementing("p"))
    make_procedure(levels=["Cấp xã", "Cấp huyện"], agencies=_implementing("cu"))
    make_procedure(levels=["Cấp tỉnh"], status="draft")
    with app.app_context():
        facets = queries.browse()
    assert [(f.name, f.count) for f in facets["levels"]] == [("Cấp huyện", 1), ("Cấp xã", 2)]
    assert [f.slug for f in facets["agencies"]] == ["p"]  # retired agencies are not offered


def test_store_agency_refuses_a_loop_in_the_hierarchy(app, make_agency):
    make_agency(slug="a", name="A")
    make_agency(slug="b", name="B", parent="a")
    with app.app_context():
        with pytest.raises(ValidationError):
            store.store_agency(records.normalize_agency({"slug": "a", "name": "A", "parent": "b"}))
        with pytest.raises(ValidationError):
            store.store_agency(
                records.normalize_agency({"slug": "a", "name": "A", "successor": "a"})
            )
