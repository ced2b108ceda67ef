"""Printed editions for foreign investors: the procedure sheet and PDF, and the booklets, in
English (`?lang=en`) or bilingual Vietnamese–English (`?ban=song-ngu`), each booklet edition
built and cached as its own file; an unknown edition is a 400 that says what to use."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.test_english_pages import compiled, english_available  # noqa: F401 (fixtures)
from tests.test_printing import ready_booklet

WORK_PERMIT = "1.000105"
UNTRANSLATED = "1.001193"


def _text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def test_bilingual_pdf_has_both_languages_side_by_side(demo_client):
    response = demo_client.get(f"/thu-tuc/{WORK_PERMIT}.pdf?ban=song-ngu")
    assert response.status_code == 200
    assert f"thu-tuc-{WORK_PERMIT}-song-ngu.pdf" in response.headers["Content-Disposition"]
    text = _text(response.data)
    assert "Cấp giấy phép lao động cho người lao động nước ngoài" in text
    assert "Work permit for a foreign worker in Vietnam" in text
    assert "Trình tự thực hiện / Steps" in text
    assert "Thành phần hồ sơ / Dossier" in text
    # The rest stays in Vietnamese, as the desk hands it over.
    assert "Chậm nhất 15 ngày trước ngày" in text


def test_bilingual_print_view_lays_the_name_out_in_two_columns(demo_client):
    html = demo_client.get(f"/thu-tuc/{WORK_PERMIT}/in?ban=song-ngu").text
    assert '<html lang="vi">' in html
    assert '<div class="bilingual-vi" lang="vi">' in html
    assert '<div class="bilingual-en" lang="en">' in html
    assert '<p class="bilingual-name">Work permit for a foreign worker in Vietnam</p>' in html
    # Its PDF link keeps the edition.
    assert f"/thu-tuc/{WORK_PERMIT}.pdf?ban=song-ngu" in html


def test_bilingual_sheet_of_an_untranslated_procedure_says_so(demo_client):
    html = demo_client.get(f"/thu-tuc/{UNTRANSLATED}/in?ban=song-ngu").text
    assert "No English translation of this procedure yet." in html


def test_english_pdf_shows_the_english_or_the_vietnamese_marked(demo_client):
    translated = demo_client.get(f"/thu-tuc/{WORK_PERMIT}.pdf?lang=en")
    assert f"thu-tuc-{WORK_PERMIT}-en.pdf" in translated.headers["Content-Disposition"]
    text = _text(translated.data)
    assert "Work permit for a foreign worker in Vietnam" in text
    assert "Cấp giấy phép lao động" in text  # the legal name's Vietnamese original
    assert "Steps" in text
    untranslated = _text(demo_client.get(f"/thu-tuc/{UNTRANSLATED}.pdf?lang=en").data)
    assert "(Vietnamese only)" in untranslated


def test_vietnamese_pdf_is_unchanged_by_the_editions(demo_client):
    response = demo_client.get(f"/thu-tuc/{WORK_PERMIT}.pdf?lang=vi")
    assert f'filename="thu-tuc-{WORK_PERMIT}.pdf"' in response.headers["Content-Disposition"]
    text = _text(response.data)
    assert "Work permit" not in text
    assert "/ Steps" not in text


def test_bad_edition_is_a_400_with_a_message(demo_client):
    for url in (
        f"/thu-tuc/{WORK_PERMIT}/in?ban=nga",
        f"/thu-tuc/{WORK_PERMIT}.pdf?ban=nga",
        "/linh-vuc/viec-lam/so-tay.pdf?ban=nga",
        "/co-quan/so-noi-vu-thai-binh/so-tay.pdf?ban=1",
    ):
        response = demo_client.get(url + "&lang=vi")
        assert response.status_code == 400, url
        assert "Không có bản in" in response.text
        assert "ban=song-ngu" in response.text


def test_each_booklet_edition_is_its_own_file(demo_client):
    url = "/linh-vuc/viec-lam/so-tay.pdf"
    bilingual = ready_booklet(demo_client, url + "?ban=song-ngu&lang=vi")
    assert bilingual.status_code == 200
    assert "so-tay-linh-vuc-viec-lam_song-ngu.pdf" in bilingual.headers["Content-Disposition"]
    text = _text(bilingual.data)
    assert "SỔ TAY THỦ TỤC HÀNH CHÍNH" in text
    assert "Work permit for a foreign worker in Vietnam" in text
    assert "Trình tự thực hiện / Steps" in text
    vietnamese = ready_booklet(demo_client, url + "?lang=vi")
    assert "so-tay-linh-vuc-viec-lam.pdf" in vietnamese.headers["Content-Disposition"]
    assert "Work permit" not in _text(vietnamese.data)
    english = ready_booklet(demo_client, url + "?lang=en")
    assert "so-tay-linh-vuc-viec-lam_en.pdf" in english.headers["Content-Disposition"]
    assert "Employment" in _text(english.data)
    etags = {bilingual.headers["ETag"], vietnamese.headers["ETag"], english.headers["ETag"]}
    assert len(etags) == 3  # three fingerprints, three cached files


def test_the_procedure_page_offers_the_editions(demo_client):
    html = demo_client.get(f"/thu-tuc/{WORK_PERMIT}?lang=vi").text
    assert f'href="/thu-tuc/{WORK_PERMIT}.pdf?lang=en"' in html
    assert f'href="/thu-tuc/{WORK_PERMIT}.pdf?ban=song-ngu"' in html
    field = demo_client.get("/linh-vuc/viec-lam?lang=vi").text
    assert 'href="/linh-vuc/viec-lam/so-tay.pdf?ban=song-ngu"' in field
