"""Admin pages: agencies with history, diff and restore; lĩnh vực; site settings; the search
synonym dictionary; the activity stream. Every change shows on the public pages at once."""

from __future__ import annotations

import html

import pytest

from services.catalogue import queries
from services.search import synonyms
from tests.helpers import submit

A = "/staff/admin/agencies/phong-a"


@pytest.fixture
def app(staff_app):
    return staff_app


def test_agency_changes_reach_the_public_page_and_keep_history(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get(A)
    response = submit(admin, page, "", phone="0227 3851 234", note="Số máy mới")
    assert response.status_code == 302
    assert "0227 3851 234" in public.get("/co-quan/phong-a").text
    response = submit(admin, admin.get(A), "", phone="0227 0000 000", address="Số 1 đường A")
    assert response.status_code == 302
    assert "0227 0000 000" in public.get("/co-quan/phong-a").text

    history = admin.get(f"{A}/history")
    assert "Số máy mới" in history.text
    diff = admin.get(f"{A}/diff?a=1&b=2").text
    for text in ("Điện thoại", "0227 3851 234", "0227 0000 000", "Địa chỉ", "Số 1 đường A"):
        assert text in diff, text
    response = submit(admin, history, f"{A}/history/1/restore")
    assert response.status_code == 302
    assert "0227 3851 234" in public.get("/co-quan/phong-a").text
    assert "Khôi phục phiên bản số 1" in admin.get(f"{A}/history").text
    assert "Khôi phục phiên bản số 1" in admin.get("/staff/agencies/phong-a/activity").text


def test_agency_form_checks_and_conflicts(login_as):
    admin = login_as("admin")
    page = admin.get(A)
    response = submit(admin, page, "", name="", website="không-phải-url", valid_from="2025-02-01",
                      valid_to="2025-01-01")  # fmt: skip
    assert response.status_code == 400
    assert "Không được để trống." in response.text
    assert "Địa chỉ web không hợp lệ" in response.text
    response = submit(admin, page, "", valid_from="2025-02-01", valid_to="2025-01-01")
    assert "Ngày hết hiệu lực phải sau ngày bắt đầu." in response.text
    response = submit(admin, page, "", parent="to-a1")
    assert "Cơ quan không thể trực thuộc hay kế thừa chính nó." in response.text

    other = login_as("admin")
    stale = other.get(A)
    assert submit(admin, admin.get(A), "", phone="111").status_code == 302
    response = submit(other, stale, "", phone="222")
    assert response.status_code == 400
    assert "CHƯA được lưu" in response.text
    assert "111" in response.text
    assert "222" in response.text


def test_new_agency_with_successor(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get("/staff/admin/agencies/new")
    response = submit(admin, page, "", name="Phòng C mới", kind="department", parent="phong-a")
    assert response.status_code == 302
    page = admin.get("/staff/admin/agencies/new")
    assert "Đã có cơ quan" in submit(admin, page, "", name="Phòng C mới").text
    page = admin.get("/staff/admin/agencies/phong-b")
    response = submit(admin, page, "", valid_to="2020-12-31", successor="phong-c-moi")
    assert response.status_code == 302
    assert "Phòng C mới" in public.get("/co-quan/phong-b").text


def test_fields_are_created_and_renamed(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get("/staff/admin/fields/new")
    assert submit(admin, page, "", name="Hộ tịch").status_code == 400
    assert submit(admin, page, "", name="Đất đai", code="G01").status_code == 302
    page = admin.get("/staff/admin/fields/ho-tich")
    response = submit(admin, page, "", name="Hộ tịch (đã đổi tên)")
    assert response.status_code == 302
    assert "Hộ tịch (đã đổi tên)" in public.get("/thu-tuc/1.000001").text
    assert "Đất đai" in admin.get("/staff/admin/fields").text


def test_site_settings(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get("/staff/admin/settings")
    response = submit(admin, page, "", base_url="khong-hop-le", portal_name="Cổng mới")
    assert response.status_code == 400
    assert "Cổng mới" in response.text
    response = submit(admin, page, "", portal_name="Cổng thủ tục xã Thử", desk_phone="0227 1")
    assert response.status_code == 302
    home = public.get("/").text
    assert "Cổng thủ tục xã Thử" in home
    response = submit(admin, page, "", portal_name="Bản cũ ghi đè")
    assert response.status_code == 400
    assert "vừa được người khác thay đổi" in response.text
    assert "Bản cũ ghi đè" not in public.get("/").text


def test_activity_lists_changes_newest_first_within_scope(login_as):
    editor, other = login_as("editor"), login_as("other_editor")
    for name in ("Tên một", "Tên hai"):
        page = editor.get("/staff/procedures/1.000001/edit")
        submit(editor, page, "", name=name, note=f"ghi chú {name}")
    text = editor.get("/staff/activity").text
    assert text.index("ghi chú Tên hai") < text.index("ghi chú Tên một")
    assert "Tên hai" in editor.get("/staff/agencies/phong-a/activity").text
    assert "Tên hai" not in other.get("/staff/activity").text
    assert other.get("/staff/agencies/phong-a/activity").status_code == 403


S = "/staff/admin/synonyms"


def test_synonym_dictionary_edits_apply_to_the_next_search(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get(S)
    assert "Đang dùng bản mặc định" in page.text
    assert "GPXD" in page.text  # the shipped dictionary, ready to edit
    with staff_app.app_context():
        code, name = "1.000001", queries.get_procedure("1.000001").name
    word = "xyzzyabc"
    assert code not in public.get(f"/api/v1/procedures?q={word}").text
    text = page.text.split("</textarea>")[0].split(">")[-1]
    response = submit(admin, page, "", text=f"{html.unescape(text)}\n{word} => {name}\n")
    assert response.status_code == 302
    found = public.get(f"/api/v1/procedures?q={word}").get_json()
    assert code in [result["code"] for result in found["results"]]
    page = admin.get(S)
    assert "Đang dùng bản đã sửa" in page.text
    response = submit(admin, page, "/staff/admin/synonyms/reset")
    assert response.status_code == 302
    assert "Đang dùng bản mặc định" in admin.get(S).text
    assert public.get(f"/api/v1/procedures?q={word}").get_json()["total"] == 0


def test_synonym_dictionary_refuses_bad_lines_and_stale_forms(staff_app, login_as):
    admin = login_as("admin")
    page = admin.get(S)
    response = submit(admin, page, "", text="GPXD = giấy phép xây dựng\nchỉ một vế\n")
    assert response.status_code == 400
    assert "Dòng 2" in response.text
    assert "chỉ một vế" in response.text  # what was typed is kept
    with staff_app.app_context():
        assert not synonyms.is_customized()

    other = login_as("admin")
    stale = other.get(S)
    assert submit(admin, admin.get(S), "", text="a = b\n").status_code == 302
    response = submit(other, stale, "", text="c = d\n")
    assert response.status_code == 400
    assert "CHƯA được lưu" in response.text
    with staff_app.app_context():
        assert synonyms.load_text() == "a = b\n"
