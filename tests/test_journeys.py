"""Journeys on the demo catalogue: the totals of every demo journey against sums worked out by
hand from data/demo-catalogue.json, the list, page, PDF (text and QR code read back), the
procedure page's "part of", the home page, the sitemap, the API, the catalogue file's round
trip, and bad input."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.catalogue import transfer
from services.db import db
from services.journeys import queries, store
from services.journeys.records import normalize_journey
from services.journeys.totals import Span
from services.models import Journey, Procedure, SearchLog

BASE = "http://127.0.0.1:5000"

# Each demo journey's totals, worked out by hand from the procedures' channels in
# data/demo-catalogue.json: (times by unit, fee range, untimed, unpriced, left out, optional).
EXPECTED = {
    # 1.009645 35 days + 1.012755 20 days + environment (either of 1.010733, 1.010736 with no
    # time, 1.004138 abolished) + 2.001573 no time + 1.009995 20 days = 75 days;
    # 2.001574 10 working days + either of 2.000720 / 1.005280 (3 each) = 13 working days.
    # Fees: 0 + ? + 0 (1.010736; 1.010733 unknown) + ? + 150,000 + 0 + either of 2.000720
    # (50,000 online to 100,000) / 1.005280 (100,000) = 200,000 – 250,000.
    # Untimed: 1.010733, 1.010736, 2.001573; unpriced: 1.012755, 1.010733, 2.001573; left out:
    # 1.004138 (abolished); optional: the zoning step (1.008455).
    "dau-tu-cum-cong-nghiep": (
        {"days": Span(75, 75), "working_days": Span(13, 13)},
        Span(200_000, 250_000),
        3,
        3,
        1,
        1,
    ),
    # 2.000720: 3 working days, 50,000 (online) – 100,000; four optional steps.
    "mo-ho-kinh-doanh": ({"working_days": Span(3, 3)}, Span(50_000, 100_000), 0, 0, 0, 4),
    # Either of 1.009994 (75,000) / 1.009999 / 1.010001 (no fee), all 15 days; then 1.012741
    # 20 working days with no fee: 15 days + 20 working days, 75,000.
    "xay-nha-o": (
        {"days": Span(15, 15), "working_days": Span(20, 20)},
        Span(75_000, 75_000),
        0,
        3,
        0,
        1,
    ),
    # Either of 1.001193 (1 working day, free) / 1.012860 (a draft: left out).
    "khai-sinh": ({"working_days": Span(1, 1)}, Span(0, 0), 0, 0, 1, 1),
    # 1.000656: 1 working day, free; three optional steps.
    "khai-tu": ({"working_days": Span(1, 1)}, Span(0, 0), 0, 0, 0, 3),
    # 1.004494 20 working days, then all of 1.004496 (20) and 2.001574 (10) side by side:
    # 20 + max(20, 10) = 40 working days, all free.
    "mo-truong-mam-non": ({"working_days": Span(40, 40)}, Span(0, 0), 0, 0, 0, 0),
}


def test_every_demo_journey_totals_as_worked_out_by_hand(demo_app):
    with demo_app.test_request_context():
        slugs = [j.slug for j in queries.list_journeys()]
        assert sorted(slugs) == sorted(EXPECTED)
        for slug, (times, fee, untimed, unpriced, left_out, optional) in EXPECTED.items():
            t = queries.journey_page(slug).totals
            assert t.times == times, slug
            assert t.fee == fee, slug
            assert (t.untimed, t.unpriced, t.left_out, t.optional_steps) == (
                untimed, unpriced, left_out, optional,
            ), slug  # fmt: skip
            assert not t.mixed_units, slug


def test_the_journey_page_shows_each_step_and_the_totals(demo_client):
    page = demo_client.get("/hanh-trinh/dau-tu-cum-cong-nghiep")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "75 ngày + 13 ngày làm việc" in text
    assert "200.000 – 250.000 đồng" in text
    assert "3 thủ tục chưa có thời hạn cụ thể: không được tính." in text
    assert "1 thủ tục đã bãi bỏ hoặc chưa công bố: không được tính." in text
    assert 'href="/thu-tuc/1.009645"' in page.text
    assert "đã bãi bỏ, không tính" in text  # 1.004138
    assert "Chỉ cần một trong các thủ tục sau." in text
    assert "không bắt buộc" in text
    assert "Ngày làm việc, ngày, tháng và giờ được cộng riêng" in text
    # A draft in a step shows its code only, never its name.
    birth = demo_client.get("/hanh-trinh/khai-sinh").text
    assert "1.012860" in birth
    assert "Liên thông thủ tục hành chính" not in birth
    assert "chưa công bố trong danh mục, không tính" in birth


def test_the_list_and_the_home_page_list_journeys(demo_client):
    listing = demo_client.get("/hanh-trinh")
    assert listing.status_code == 200
    for slug in EXPECTED:
        assert f'href="/hanh-trinh/{slug}"' in listing.text
    home = demo_client.get("/")
    assert 'href="/hanh-trinh/khai-tu"' in home.text
    assert "Được tìm nhiều nhất" not in home.text  # no search clicks yet: no section


def test_the_home_page_lists_the_procedures_opened_most_from_search(demo_app, demo_client):
    with demo_app.app_context():
        db.session.add(SearchLog(id=900, query="khai", results=3))
        db.session.commit()
    for code in ["1.001193", "1.001193", "1.000656", "1.003003"]:  # as people click results
        assert demo_client.get(f"/tim-kiem/mo?log=900&code={code}").status_code == 302
    home = demo_client.get("/").text
    section = home[home.index("Được tìm nhiều nhất") :]
    assert section.index("/thu-tuc/1.001193") < section.index("/thu-tuc/1.000656")
    assert "/thu-tuc/1.003003" not in section.split("</section>")[0]  # abolished: not listed


def test_english_pages_show_the_english_names(demo_client):
    page = demo_client.get("/hanh-trinh/mo-truong-mam-non?lang=en")
    assert page.status_code == 200
    assert "Opening a private preschool" in page.text
    assert "Permission to operate and fire safety check" in page.text


def test_an_untranslated_journey_shows_its_vietnamese_marked_on_english_pages(
    demo_app, demo_client
):
    with demo_app.app_context():
        journey = db.session.execute(db.select(Journey).filter_by(slug="khai-tu")).scalar_one()
        vietnamese = journey.name
        journey.name_en = ""
        db.session.commit()
    page = demo_client.get("/hanh-trinh/khai-tu?lang=en").text
    heading = page[page.index("<h1>") : page.index("</h1>")]
    assert f'<span lang="vi">{vietnamese}</span>' in heading
    assert "(Vietnamese only)" in heading
    assert "(Vietnamese only)" not in demo_client.get("/hanh-trinh/khai-tu?lang=vi").text


def test_unknown_and_unpublished_journeys_are_404_in_vietnamese(demo_app, demo_client):
    missing = demo_client.get("/hanh-trinh/khong-co")
    assert missing.status_code == 404
    assert "Không tìm thấy hành trình “khong-co”." in missing.text
    assert demo_client.get("/hanh-trinh/khong-co.pdf").status_code == 404
    assert demo_client.get("/api/v1/journeys/khong-co").status_code == 404
    with demo_app.app_context():
        journey = db.session.execute(db.select(Journey).filter_by(slug="khai-tu")).scalar_one()
        journey.published = False
        db.session.commit()
    assert demo_client.get("/hanh-trinh/khai-tu").status_code == 404
    assert 'href="/hanh-trinh/khai-tu"' not in demo_client.get("/hanh-trinh").text


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    source = tmp_path / "journey.pdf"
    source.write_bytes(pdf)
    image = tmp_path / "journey"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", source, image],
        check=True,
    )
    scan = subprocess.run(
        ["zbarimg", "--raw", "-q", f"{image}.png"], capture_output=True, text=True
    )
    return scan.stdout.split()


def test_the_pdf_holds_the_steps_totals_and_a_qr_code_to_the_page(demo_client, tmp_path):
    response = demo_client.get("/hanh-trinh/mo-truong-mam-non.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split()
    )
    assert "Mở trường mầm non tư thục" in text
    assert "40 ngày làm việc" in text
    assert "Cho phép trường mầm non hoạt động giáo dục" in text
    assert _qr_codes(response.data, tmp_path) == [f"{BASE}/hanh-trinh/mo-truong-mam-non"]


def test_a_procedure_page_says_which_journeys_it_is_part_of(demo_client):
    page = demo_client.get("/thu-tuc/2.001574").text
    assert "Thuộc hành trình" in page
    assert 'href="/hanh-trinh/dau-tu-cum-cong-nghiep"' in page
    assert 'href="/hanh-trinh/mo-truong-mam-non"' in page
    assert "Thuộc hành trình" not in demo_client.get("/thu-tuc/1.000894").text


def test_the_sitemap_lists_the_journeys(demo_client):
    sitemap = demo_client.get("/sitemap.xml").text
    assert f"<loc>{BASE}/hanh-trinh</loc>" in sitemap
    assert f"<loc>{BASE}/hanh-trinh/khai-sinh</loc>" in sitemap


def test_the_api_gives_journeys_with_their_totals(demo_client):
    listing = demo_client.get("/api/v1/journeys").json
    assert [j["slug"] for j in listing["journeys"]][:2] == [
        "dau-tu-cum-cong-nghiep", "mo-ho-kinh-doanh",
    ]  # fmt: skip
    one = demo_client.get("/api/v1/journeys/dau-tu-cum-cong-nghiep").json
    assert one["url"] == f"{BASE}/hanh-trinh/dau-tu-cum-cong-nghiep"
    assert one["totals"]["times"] == [
        {"unit": "days", "low": 75, "high": 75},
        {"unit": "working_days", "low": 13, "high": 13},
    ]
    assert one["totals"]["fee"] == {"low": 200_000, "high": 250_000}
    assert one["steps"][3]["mode"] == "any"
    assert one["steps"][3]["procedures"] == ["1.010733", "1.010736", "1.004138"]
    assert one["steps"][7]["fee"] == {"low": 50_000, "high": 100_000}


def test_the_catalogue_file_carries_journeys_both_ways(demo_app):
    with demo_app.test_request_context():
        document = transfer.export_catalogue()
        assert [j["slug"] for j in document["journeys"]] == list(EXPECTED)
        for journey in db.session.execute(db.select(Journey)).scalars():
            db.session.delete(journey)
        db.session.commit()
        report = transfer.import_catalogue(document)
        assert report.journeys["created"] == len(EXPECTED)
        assert transfer.export_catalogue()["journeys"] == document["journeys"]
        assert transfer.import_catalogue(document).journeys["unchanged"] == len(EXPECTED)


def test_a_file_naming_unknown_codes_keeps_them_and_a_bad_journey_aborts_the_import(app):
    good = {"slug": "x", "name": "X", "steps": [{"title": "A", "procedures": ["9.999999"]}]}
    document = {"format": "tthc-catalogue", "version": 1, "journeys": [good]}
    with app.test_request_context():
        transfer.import_catalogue(document)
        page = queries.journey_page("x")
        assert page.steps[0].items[0].procedure is None
        assert page.totals.left_out == 1
        assert page.totals.times == {}
        bad = {**document, "journeys": [{**good, "slug": "y", "steps": [{"title": "A"}]}]}
        with pytest.raises(Exception, match="ít nhất một thủ tục"):
            transfer.import_catalogue(bad)
        assert db.session.execute(db.select(Journey.slug)).scalars().all() == ["x"]
        assert db.session.execute(db.select(Procedure.id)).first() is None


def _journey(app, steps: list[dict]) -> None:
    with app.app_context():
        store.store_journey(normalize_journey({"slug": "thu", "name": "Thử", "steps": steps}))
        db.session.commit()


def test_either_of_gives_a_range_and_all_of_the_longest(demo_app, demo_client):
    _journey(
        demo_app,
        [
            # Either of 1.009645 (35 days, free) / 1.009994 (15 days, 75,000): 15–35 days.
            {"title": "A", "mode": "any", "procedures": ["1.009645", "1.009994"]},
            # All of 1.009995 (20 days, 150,000) and 1.008455 (15 days, free): 20 days, 150,000.
            {"title": "B", "mode": "all", "procedures": ["1.009995", "1.008455"]},
        ],
    )
    one = demo_client.get("/api/v1/journeys/thu").json
    assert one["steps"][0]["times"] == [{"unit": "days", "low": 15, "high": 35}]
    assert one["steps"][0]["fee"] == {"low": 0, "high": 75_000}
    assert one["steps"][1]["times"] == [{"unit": "days", "low": 20, "high": 20}]
    assert one["steps"][1]["fee"] == {"low": 150_000, "high": 150_000}
    # 15–35 + 20 = 35–55 days; 0–75,000 + 150,000 = 150,000–225,000.
    assert one["totals"]["times"] == [{"unit": "days", "low": 35, "high": 55}]
    assert one["totals"]["fee"] == {"low": 150_000, "high": 225_000}
    text = " ".join(demo_client.get("/hanh-trinh/thu").text.split())
    assert "35–55 ngày" in text
    assert "150.000 – 225.000 đồng" in text


def test_working_days_are_never_added_to_calendar_days(demo_app, demo_client):
    # All of 1.009645 (35 days) and 2.001574 (10 working days): the units cannot be compared,
    # so each keeps its own bound and the page says so.
    _journey(demo_app, [{"title": "A", "procedures": ["1.009645", "2.001574"]}])
    one = demo_client.get("/api/v1/journeys/thu").json
    assert one["totals"]["times"] == [
        {"unit": "days", "low": 35, "high": 35},
        {"unit": "working_days", "low": 10, "high": 10},
    ]
    assert one["totals"]["mixed_units"] is True
    text = " ".join(demo_client.get("/hanh-trinh/thu").text.split())
    assert "35 ngày + 10 ngày làm việc" in text
    assert "mỗi đơn vị được ghi riêng, là mức tối đa" in text


def test_without_a_base_url_the_pdf_has_no_qr_code_but_a_note(app, client, tmp_path):
    document = {
        "format": "tthc-catalogue",
        "version": 1,
        "journeys": [
            {
                "slug": "x",
                "name": "Một hành trình",
                "steps": [{"title": "A", "procedures": ["1.1"]}],
            }
        ],
    }
    with app.test_request_context():
        transfer.import_catalogue(document)
    response = client.get("/hanh-trinh/x.pdf", headers={"Host": "evil.example"})
    assert response.status_code == 200
    text = " ".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert "Chưa có mã QR" in text
    assert "evil.example" not in text
    assert _qr_codes(response.data, tmp_path) == []
