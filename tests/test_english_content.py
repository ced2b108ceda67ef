"""English content: the English name and summary of procedures, agencies and lĩnh vực, as staff
write them (editor, admin), as the catalogue file, a national re-import, the API and search
carry them, and as English pages show them: the English with the Vietnamese original beside a
legal name, or the Vietnamese marked "(Vietnamese only)", never an empty field; Vietnamese
pages as before."""

from __future__ import annotations

import re
import shutil

import pytest

from services import importers
from services.catalogue import convert, queries, records, store, transfer
from services.db import create_schema, db
from services.errors import ValidationError
from tests.helpers import close_app, make_app, procedure_raw, submit
from tests.test_english_pages import compiled, english_available  # noqa: F401 (fixtures)

WORK_PERMIT = "1.000105"
WORK_PERMIT_EN = "Work permit for a foreign worker in Vietnam"
WORK_PERMIT_VI = "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam"
# A demo procedure nobody translated (Hộ tịch).
UNTRANSLATED = "1.001193"


def _h1(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)


# --- the record ---------------------------------------------------------------------------------


def test_catalogue_file_carries_the_english_from_one_portal_to_another(app, tmp_path):
    with app.app_context():
        store.store_agency(
            records.normalize_agency(
                {"slug": "so-a", "name": "Sở A", "name_en": "Department A", "summary_en": "Does A."}
            )
        )
        store.store_field(records.normalize_field({"name": "Việc làm", "name_en": "Employment"}))
        raw = procedure_raw(
            code="7.000001",
            fields=["Việc làm"],
            agencies=[{"role": "implementing", "agency": "so-a"}],
            name_en="Work permit",
            summary_en="For foreign workers.",
        )
        store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()
        document = transfer.export_catalogue()
    exported = document["procedures"][0]
    assert (exported["name_en"], exported["summary_en"]) == ("Work permit", "For foreign workers.")

    other = make_app(tmp_path / "other")
    try:
        with other.app_context():
            create_schema()
            transfer.import_catalogue(document)
            procedure = queries.get_procedure("7.000001")
            agency = queries.get_agency("so-a")
            field = queries.get_field("viec-lam")
            assert (procedure.name_en, procedure.summary_en) == (raw["name_en"], raw["summary_en"])
            assert (agency.name_en, agency.summary_en) == ("Department A", "Does A.")
            assert field.name_en == "Employment"
            # The same file again changes nothing: the English is part of the compared record.
            again = transfer.import_catalogue(document)
            assert again.procedures["unchanged"] == 1
    finally:
        close_app(other)


def test_english_that_is_not_text_is_refused_with_its_key(app):
    with app.app_context(), pytest.raises(ValidationError) as refused:
        records.normalize_procedure(procedure_raw(name_en=["a list"]))
    assert "procedure.name_en" in refused.value.errors


def test_a_national_reimport_keeps_the_english_staff_wrote(app, portal_pages, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (source,) = portal_pages.glob("*/1.000080.json")
    shutil.copy(source, folder / source.name)
    with app.app_context():
        importers.run_import([folder])
        procedure = queries.get_procedure("1.000080", public=False)
        record = convert.procedure_record(procedure)
        english = {"name_en": "Translated by staff", "summary_en": "A summary in English."}
        store.write_procedure(procedure, {**record, **english})
        db.session.commit()
        # The national data has no English: the same page again must leave it in place.
        report = importers.run_import([folder])
        kept = convert.procedure_record(queries.get_procedure("1.000080", public=False))
    assert report.procedures["unchanged"] == 1
    assert (kept["name_en"], kept["summary_en"]) == (english["name_en"], english["summary_en"])


# --- staff write it -----------------------------------------------------------------------------


def test_the_editor_saves_the_english_and_the_public_english_page_shows_it(staff_app, login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    page = editor.get("/staff/procedures/1.000001/edit")
    assert 'name="name_en"' in page.text
    assert 'name="summary_en"' in page.text
    response = submit(
        editor, page, "", name_en="Test procedure", summary_en="What it is for, in English."
    )
    assert response.status_code == 302, response.text
    page = editor.get("/staff/procedures/1.000001")
    assert submit(editor, page, "/staff/procedures/1.000001/submit").status_code == 302
    page = publisher.get("/staff/procedures/1.000001")
    assert submit(publisher, page, "/staff/procedures/1.000001/publish").status_code == 302

    english = staff_app.test_client().get("/thu-tuc/1.000001?lang=en").text
    assert '<span lang="en">Test procedure</span>' in _h1(english)
    assert 'class="original" lang="vi">Thủ tục thử số' in _h1(english)
    assert "What it is for, in English." in english
    vietnamese = staff_app.test_client().get("/thu-tuc/1.000001?lang=vi").text
    assert "Test procedure" not in vietnamese
    # The revision's diff names the change in words.
    history = editor.get("/staff/procedures/1.000001/history").text
    latest = max(map(int, re.findall(r'name="b" value="(\d+)"', history)))
    diff = editor.get(f"/staff/procedures/1.000001/diff?a=1&b={latest}").text
    assert "Tên tiếng Anh" in diff
    assert "Test procedure" in diff


def test_the_editor_refuses_an_english_name_too_long(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get("/staff/procedures/1.000001/edit")
    response = submit(editor, page, "", name_en="x" * 2001)
    assert response.status_code == 400
    assert "x" * 2001 in response.text  # what was typed is kept on the page, not lost


def test_admins_write_the_english_of_agencies_and_fields(staff_app, login_as):
    admin, public = login_as("admin"), staff_app.test_client()
    page = admin.get("/staff/admin/agencies/phong-a")
    response = submit(admin, page, "", name_en="Office A", summary_en="Receives files for A.")
    assert response.status_code == 302, response.text
    page = admin.get("/staff/admin/fields/ho-tich")
    assert submit(admin, page, "", name_en="Civil status").status_code == 302

    english = public.get("/co-quan/phong-a?lang=en").text
    assert '<span lang="en">Office A</span> <span class="original" lang="vi">Phòng A</span>' in (
        _h1(english)
    )
    assert "Receives files for A." in english
    assert "<title>Office A –" in english
    assert "Civil status" in public.get("/linh-vuc/ho-tich?lang=en").text
    assert "Civil status" in public.get("/thu-tuc/1.000001?lang=en").text
    assert "Office A" not in public.get("/co-quan/phong-a?lang=vi").text


# --- pages ----------------------------------------------------------------------------------


def test_english_page_of_a_translated_procedure(demo_client):
    html = demo_client.get(f"/thu-tuc/{WORK_PERMIT}?lang=en").text
    assert f'<span lang="en">{WORK_PERMIT_EN}</span>' in _h1(html)
    assert f'<span class="original" lang="vi">{WORK_PERMIT_VI}</span>' in _h1(html)
    assert f"<title>{WORK_PERMIT_EN} ({WORK_PERMIT})" in html
    assert '<meta name="description" content="For a company or organisation' in html
    # The agency, a legal name too, keeps its Vietnamese beside the English.
    assert "Department of Home Affairs of Thái Bình Province</span>" in html
    assert '<span class="original" lang="vi">Sở Nội vụ tỉnh Thái Bình</span>' in html


def test_english_page_without_a_translation_shows_the_vietnamese_marked(demo_client):
    html = demo_client.get(f"/thu-tuc/{UNTRANSLATED}?lang=en").text
    heading = _h1(html)
    assert re.fullmatch(
        r'<span lang="vi">[^<]+</span> <span class="untranslated" lang="en">\(Vietnamese only\)'
        r"</span>",
        heading,
    ), heading
    assert '<p class="lead"><span lang="vi">' in html  # the description, marked too
    assert "<h1></h1>" not in html
    assert '<p class="lead"></p>' not in html


def _visible(html: str) -> str:
    """The page without its scripts (the JSON-LD data carries the English in every language)."""
    return re.sub(r"<script\b.*?</script>", "", html, flags=re.S)


def test_vietnamese_pages_show_no_english(demo_client):
    html = _visible(demo_client.get(f"/thu-tuc/{WORK_PERMIT}?lang=vi").text)
    assert _h1(html) == WORK_PERMIT_VI
    assert WORK_PERMIT_EN not in html
    assert "untranslated" not in html
    home = _visible(demo_client.get("/?lang=vi").text)
    assert ">Land<" not in home
    assert "Investment in Vietnam" not in home


def test_english_lists_use_the_english_names(demo_client):
    home = demo_client.get("/?lang=en").text
    assert ">Land</span>" in home
    assert ">Investment in Vietnam</span>" in home
    fields = demo_client.get("/linh-vuc?lang=en").text
    assert '<span lang="en">Employment</span>' in fields
    agencies = demo_client.get("/co-quan?lang=en").text
    assert "Department of Home Affairs of Thái Bình Province" in agencies
    field = demo_client.get("/linh-vuc/viec-lam?lang=en").text
    assert "<title>Employment –" in field
    assert WORK_PERMIT_EN in field


# --- API and search -----------------------------------------------------------------------------


def test_the_api_carries_the_english(demo_client):
    record = demo_client.get(f"/api/v1/procedures/{WORK_PERMIT}").get_json()
    assert record["name_en"] == WORK_PERMIT_EN
    assert record["summary_en"].startswith("For a company")
    agency = demo_client.get("/api/v1/agencies/so-noi-vu-thai-binh").get_json()
    assert agency["name_en"] == "Department of Home Affairs of Thái Bình Province"
    found = demo_client.get("/api/v1/procedures", query_string={"q": "work permit"}).get_json()
    assert found["results"][0]["code"] == WORK_PERMIT
    assert found["results"][0]["name_en"] == WORK_PERMIT_EN
    untranslated = demo_client.get(f"/api/v1/procedures/{UNTRANSLATED}").get_json()
    assert untranslated["name_en"] == ""


def test_english_queries_find_procedures_by_their_english_name(demo_client):
    for query, code in (
        ("work permit foreign worker", WORK_PERMIT),
        ("mortgage registration", "1.012801"),
        ("environmental registration", "1.010736"),
    ):
        page = demo_client.get("/tim-kiem", query_string={"q": query, "lang": "en"}).text
        pattern = r'class="procedure-item">.*?<span class="code">([^<]+)</span>'
        codes = re.findall(pattern, page, re.S)
        assert codes[:1] == [code], (query, codes[:3])
