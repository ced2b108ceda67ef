"""The search page, the JSON API and suggestions, through the test client on the demo
catalogue; every bad input next to the good ones."""

import re

import pytest
from sqlalchemy import select

from services.db import db
from services.models import Procedure, SearchLog, Status


def _codes(html: str) -> list[str]:
    return re.findall(r'<span class="code">([^<]+)</span>', html)


def _api(client, **params):
    response = client.get("/api/v1/procedures", query_string=params)
    return response.status_code, response.get_json()


def test_page_finds_without_diacritics_and_marks_the_words(demo_client):
    response = demo_client.get("/tim-kiem?q=giay+phep+xay+dung+nha+o")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _codes(html)[0] == "1.009994"  # Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ
    assert "<mark>giấy phép xây dựng</mark>" in html
    assert re.search(r"Tìm thấy \d+ thủ tục", html)
    assert 'class="snippet"' in html
    assert 'aria-labelledby="facets-title"' in html


def test_page_offers_facets_that_combine(demo_app, demo_client):
    html = demo_client.get("/tim-kiem?q=giay+phep").get_data(as_text=True)
    total = int(re.search(r"Tìm thấy (\d+) thủ tục", html).group(1))
    agency_link = re.search(r'href="(/tim-kiem\?q=giay\+phep&amp;agency=[^"]+)"', html).group(1)
    narrowed = demo_client.get(agency_link.replace("&amp;", "&")).get_data(as_text=True)
    narrowed_total = int(re.search(r"Tìm thấy (\d+) thủ tục", narrowed).group(1))
    assert 0 < narrowed_total <= total
    assert 'aria-current="true"' in narrowed  # the chosen value, with a link to remove it
    assert "bỏ bộ lọc" in narrowed
    level = re.search(r'href="(/tim-kiem\?[^"]*level=[^"]+)"', narrowed).group(1)
    both = demo_client.get(level.replace("&amp;", "&")).get_data(as_text=True)
    assert "agency=" in level
    assert "level=" in level
    assert int(re.search(r"Tìm thấy (\d+) thủ tục", both).group(1)) <= narrowed_total


def test_listing_without_a_query_sorts_and_pages(demo_app, demo_client):
    with demo_app.app_context():
        published = db.session.execute(
            select(Procedure.code, Procedure.sort_name, Procedure.updated_at).where(
                Procedure.status == Status.PUBLISHED
            )
        ).all()
    html = demo_client.get("/tim-kiem").get_data(as_text=True)
    assert f"Tìm thấy {len(published)} thủ tục" in html
    assert _codes(html) == [c for c, _, _ in sorted(published, key=lambda r: r[1])][:20]
    by_code = demo_client.get("/tim-kiem?sort=code").get_data(as_text=True)
    assert _codes(by_code) == sorted(c for c, _, _ in published)[:20]
    recent = demo_client.get("/tim-kiem?sort=updated").get_data(as_text=True)
    newest = max(published, key=lambda r: r[2])
    assert _codes(recent)[0] == newest.code
    page_two = demo_client.get("/tim-kiem?sort=code&page=2").get_data(as_text=True)
    assert _codes(page_two) == sorted(c for c, _, _ in published)[20:40]
    assert 'rel="prev" href="/tim-kiem?sort=code&amp;page=1"' in page_two


def test_typo_gets_results_and_a_correction_link(demo_client):
    html = demo_client.get("/tim-kiem?q=giay+phep+xay+dugn").get_data(as_text=True)
    assert "Có phải bạn muốn tìm:" in html
    # Offered with diacritics, as names write it, though typed without.
    offered = "/tim-kiem?q=gi%E1%BA%A5y+ph%C3%A9p+x%C3%A2y+d%E1%BB%B1ng"
    assert f'href="{offered}">giấy phép xây dựng' in html
    assert "1.009994" in _codes(html)


def test_no_results_is_kind_and_recorded(demo_app, demo_client):
    response = demo_client.get("/tim-kiem?q=qxzv+blorf+wug")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rất tiếc, chưa tìm thấy thủ tục nào" in html
    assert "Tìm thấy 0 thủ tục" in html
    with demo_app.app_context():
        logged = db.session.execute(select(SearchLog)).scalars().all()
    assert [(s.query, s.results) for s in logged] == [("qxzv blorf wug", 0)]
    assert logged[0].took_ms >= 0


def test_no_results_offers_nearby_agencies_and_fields(demo_client):
    # Karaoke licences are not the Phòng Tư pháp's: point to the agency that has them.
    html = demo_client.get("/tim-kiem?q=karaoke&agency=phong-tu-phap").get_data(as_text=True)
    assert "Tìm thấy 0 thủ tục" in html
    assert "Có thể bạn quan tâm:" in html
    assert 'href="/tim-kiem?agency=phong-van-hoa-va-thong-tin"' in html


def test_words_never_found_together_give_the_closest_procedures(demo_client):
    html = demo_client.get("/tim-kiem?q=karaoke+tách+thửa").get_data(as_text=True)
    assert "Không có thủ tục nào chứa đủ mọi từ bạn tìm" in html
    assert _codes(html)[0] == "1.012753"  # holds two of the three words


def test_every_query_is_recorded_with_its_count(demo_app, demo_client):
    demo_client.get("/tim-kiem?q=khai+sinh")
    demo_client.get("/tim-kiem")  # listing: nothing to record
    _api(demo_client, q="GPXD")
    demo_client.get("/api/v1/suggest?q=kha")  # suggestions are not searches
    with demo_app.app_context():
        logged = db.session.execute(select(SearchLog.query, SearchLog.results)).all()
    assert [q for q, _ in logged] == ["khai sinh", "GPXD"]
    assert all(n > 0 for _, n in logged)


def test_drafts_and_abolished_procedures_are_not_results(demo_app, demo_client):
    with demo_app.app_context():
        hidden = db.session.execute(
            select(Procedure.code, Procedure.name).where(Procedure.status != Status.PUBLISHED)
        ).all()
    assert hidden
    for code, name in hidden:
        status, body = _api(demo_client, q=name, per_page=100)
        assert status == 200
        assert code not in [r["code"] for r in body["results"]]


def test_api_returns_the_documented_shape(demo_client):
    status, body = _api(demo_client, q="hộ KD", per_page=3)
    assert status == 200
    assert set(body) >= {"total", "page", "per_page", "results", "facets", "suggestion"}
    assert body["page"] == 1
    assert body["per_page"] == 3
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert set(first) == {
        "code", "name", "name_en", "summary_en", "url", "agency", "fields", "levels", "score",
        "highlight",
    }  # fmt: skip
    assert first["url"].endswith(f"/thu-tuc/{first['code']}")
    assert "<mark>" in first["highlight"]["name"]
    assert isinstance(first["fields"], list)
    assert isinstance(first["levels"], list)
    assert set(body["facets"]) == {"agency", "field", "level", "subject", "online"}
    agency = body["facets"]["agency"][0]
    assert set(agency) == {"value", "name", "count"}
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_api_lists_filters_and_pages_without_a_query(demo_client):
    status, everything = _api(demo_client, per_page=100)
    assert status == 200
    assert everything["total"] == len(everything["results"])
    level = everything["facets"]["level"][0]
    status, filtered = _api(demo_client, level=level["value"], per_page=100)
    assert filtered["total"] == level["count"]
    assert all(level["name"] in r["levels"] for r in filtered["results"])
    status, page_two = _api(demo_client, sort="code", per_page=5, page=2)
    codes = sorted(r["code"] for r in everything["results"])
    assert [r["code"] for r in page_two["results"]] == codes[5:10]
    status, online = _api(demo_client, online="full", per_page=100)
    assert status == 200
    assert 0 < online["total"] < everything["total"]


def test_api_finds_codes_and_decision_numbers_exactly(demo_client):
    _, body = _api(demo_client, q="1.009994")
    assert [r["code"] for r in body["results"]][:1] == ["1.009994"]
    _, body = _api(demo_client, q="1533/QĐ-UBND", per_page=50)
    codes = {r["code"] for r in body["results"]}
    assert "2.000815" in codes
    assert "2.000843" in codes
    _, plain = _api(demo_client, q="1533/qd-ubnd", per_page=50)
    assert {r["code"] for r in plain["results"]} == codes


def test_api_suggestion_and_correction(demo_client):
    _, body = _api(demo_client, q="tachs thuwar")  # Telex typed without the input method
    assert body["suggestion"] == "tách thửa"  # with diacritics, as names write it
    assert body["results"][0]["code"] == "1.012753"
    assert body["corrected"] is True


def test_suggest_completes_the_last_word(demo_client):
    body = demo_client.get("/api/v1/suggest?q=giấy+phép+xây+dự").get_json()
    assert body["query"] == "giấy phép xây dự"
    assert 0 < len(body["suggestions"]) <= 8
    first = body["suggestions"][0]
    assert set(first) == {"code", "name", "highlight", "url"}
    assert "xây dựng" in first["name"].lower()
    assert "<mark>" in first["highlight"]
    assert demo_client.get("/api/v1/suggest?q=").get_json()["suggestions"] == []
    assert demo_client.get("/api/v1/suggest").status_code == 200


def test_every_page_has_the_search_box_and_the_script(demo_client):
    for url in ("/", "/co-quan", "/tim-kiem?q=khai+sinh"):
        html = demo_client.get(url).get_data(as_text=True)
        assert 'role="search"' in html
        assert 'data-suggest="/api/v1/suggest"' in html
        assert "/static/js/search.js" in html
    assert demo_client.get("/static/js/search.js").status_code == 200


BAD_QUERIES = [
    "",
    " ",
    "x" * 2000,
    "đăng ký " * 300,
    "!!! ??? ... ---",
    '"giấy phép xây dựng',
    "AND OR NOT",
    "name:xây agency:phong-tu-phap",
    "*",
    "*a*",
    "giay*",
    "[0 TO 9]",
    "khai\x00sinh\x07\x1b[31m",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s %(name)s {0}",
    "\u202e\u200b\ufeffkhai sinh",
]


@pytest.mark.parametrize("text", BAD_QUERIES)
def test_bad_queries_never_break_the_page_or_the_api(demo_client, text):
    page = demo_client.get("/tim-kiem", query_string={"q": text})
    assert page.status_code in (200, 400)
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    if page.status_code == 400:
        assert "Từ khóa quá dài" in html
    status, body = _api(demo_client, q=text)
    assert status == page.status_code
    if status == 400:
        assert "Từ khóa quá dài" in body["error"]
    else:
        assert isinstance(body["total"], int)
    assert demo_client.get("/api/v1/suggest", query_string={"q": text}).status_code == 200


def test_control_characters_are_not_recorded(demo_app, demo_client):
    demo_client.get("/tim-kiem", query_string={"q": "khai\x00sinh\x07\x1b[31m"})
    with demo_app.app_context():
        logged = db.session.execute(select(SearchLog.query)).scalars().all()
    assert logged == ["khai sinh [31m"]


def test_invalid_utf8_in_the_query_string(demo_client):
    for raw in ("q=%ff%fe%fd", "q=gi%E1%BA", "q=%c3%28&agency=%80"):
        page = demo_client.get(f"/tim-kiem?{raw}")
        assert page.status_code in (200, 400)
        api = demo_client.get(f"/api/v1/procedures?{raw}")
        assert api.status_code in (200, 400)
        assert api.get_json() is not None
        assert demo_client.get(f"/api/v1/suggest?{raw}").status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "-1"}, "Trang không hợp lệ"),
        ({"page": "0"}, "Trang không hợp lệ"),
        ({"page": "1000000000"}, "Trang không hợp lệ"),
        ({"page": "abc"}, "Phải là số nguyên"),
        ({"q": "x" * 501}, "Từ khóa quá dài"),
    ],
)
def test_bad_page_numbers_are_a_400_with_a_message(demo_client, params, message):
    page = demo_client.get("/tim-kiem", query_string=params)
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    status, body = _api(demo_client, **params)
    assert status == 400
    assert message in body["error"]


def test_api_page_size_and_depth_are_bounded(demo_client):
    status, body = _api(demo_client, per_page=1000000)
    assert status == 400
    assert "per_page phải từ 1 đến 100" in body["error"]
    status, body = _api(demo_client, per_page=0)
    assert status == 400
    status, body = _api(demo_client, per_page=100, page=101)  # beyond the 10,000th result
    assert status == 400
    assert "Trang không hợp lệ" in body["error"]
    status, body = _api(demo_client, per_page=100, page=2)  # past the last page: empty, fine
    assert status == 200
    assert body["results"] == []


def test_unknown_facet_values(demo_client):
    status, body = _api(demo_client, q="khai sinh", agency="khong-co")
    assert status == 400
    assert body["errors"]["agency"] == "Không có giá trị “khong-co” cho bộ lọc này."
    status, body = _api(demo_client, online="nua-voi")
    assert status == 400
    assert "online" in body["errors"]
    status, body = _api(demo_client, sort="random()")
    assert status == 400
    assert "sort" in body["errors"]
    # The page drops the unknown filter, says so and shows the results without it.
    page = demo_client.get("/tim-kiem?q=khai+sinh&agency=khong-co&field=khong-co&sort=x")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bộ lọc này đã được bỏ qua." in html
    assert "1.001193" in _codes(html)


def test_large_result_sets_are_sorted_through_the_column_order(demo_app, demo_client, monkeypatch):
    expected = {
        sort: _codes(demo_client.get(f"/tim-kiem?sort={sort}").get_data(as_text=True))
        for sort in ("name", "code", "updated")
    }
    # Past SORT_IN_PLACE the whole index is put in order once; keys that agree on their first
    # KEY_PREFIX bytes are ordered by their whole value.
    monkeypatch.setattr("services.search.engine.SORT_IN_PLACE", 0)
    monkeypatch.setattr("services.search.snapshot.KEY_PREFIX", 4)
    for sort, codes in expected.items():
        html = demo_client.get(f"/tim-kiem?sort={sort}").get_data(as_text=True)
        assert _codes(html) == codes, sort
