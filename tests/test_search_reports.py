"""What people searched for: the staff report's numbers checked against a search log the test
writes through the client (searches, and clicks through the result links), the period and
weeks, the click redirect (never an open redirect), a dictionary rule added from a query that
found nothing and its effect, no address in the log, and the log's retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from sqlalchemy import func, inspect, select

from services import accounts
from services.db import db, utcnow
from services.models import SearchClick, SearchLog
from services.search import synonyms
from tests.helpers import STAFF_PASSWORD, submit

FOUND = "thủ tục thử"  # finds the published 1.000001 of the staff fixtures
NOTHING = "abcdef"


def _search(client, q: str):
    response = client.get("/tim-kiem", query_string={"q": q})
    assert response.status_code == 200
    return response


def _result_links(page) -> list[str]:
    soup = BeautifulSoup(page.text, "html.parser")
    return [a["href"] for a in soup.select("a.procedure-link")]


def _open_first(client, page) -> str:
    response = client.get(_result_links(page)[0])
    assert response.status_code == 302
    return response.location


def _table(html: str, table_id: str) -> list[list[str]]:
    table = BeautifulSoup(html, "html.parser").find("table", id=table_id)
    return [
        [" ".join(cell.get_text(" ").split()) for cell in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    ]


def _queries(html: str, table_id: str) -> list[str]:
    """The queries a table lists (not its "none" row)."""
    return [row[0] for row in _table(html, table_id) if len(row) > 1]


def _totals(html: str) -> tuple[int, int, int]:
    soup = BeautifulSoup(html, "html.parser")
    return tuple(int(soup.select_one(f".total-{n}").text) for n in ("searches", "zero", "clicked"))


def _log(app, query: str, results: int, days_ago: int, clicks: int = 0) -> None:
    with app.app_context():
        entry = SearchLog(
            query=query, results=results, searched_at=utcnow() - timedelta(days=days_ago)
        )
        db.session.add(entry)
        db.session.flush()
        db.session.add_all(SearchClick(log_id=entry.id, code="1.000001") for _ in range(clicks))
        db.session.commit()


def test_the_report_counts_the_searches_and_clicks_made(staff_app, login_as):
    visitor = login_as("anonymous")
    for _ in range(3):
        page = _search(visitor, FOUND)
    assert _open_first(visitor, page) == "/thu-tuc/1.000001"
    assert _open_first(visitor, _search(visitor, FOUND)) == "/thu-tuc/1.000001"
    _search(visitor, NOTHING)
    _search(visitor, NOTHING)
    _search(visitor, "Hộ tịch")
    report = login_as("publisher").get("/staff/reports/search")
    assert report.status_code == 200
    html = report.text
    assert _totals(html) == (7, 2, 2)
    top = _table(html, "top")
    assert top[0][:4] == [FOUND, "4", "1", "2"]
    assert "1.000001 (2)" in top[0][4]
    assert top[1][:4] == [NOTHING, "2", "0", "0"]
    assert top[2][:4] == ["Hộ tịch", "1", "1", "0"]
    zero = _table(html, "zero")
    assert [row[:3] for row in zero] == [[NOTHING, "2", "0 kết quả"]]
    assert _table(html, "unopened") == [["Hộ tịch", "1", "1"]]
    this_week = [row for row in _table(html, "weeks") if row[1] != "0"]
    assert [row[1:] for row in this_week] == [["7", "2", "2"]]


def test_a_period_and_its_weeks(staff_app, login_as):
    _log(staff_app, "đăng ký kết hôn", 3, days_ago=45, clicks=1)
    _log(staff_app, "đăng ký kết hôn", 3, days_ago=45)
    _log(staff_app, "đăng ký kết hôn", 3, days_ago=52)
    _log(staff_app, "xin giấy phép", 0, days_ago=2)
    staff = login_as("editor")
    recent = staff.get("/staff/reports/search").text
    assert _totals(recent) == (1, 1, 0)
    # Days and weeks are the portal's (Asia/Ho_Chi_Minh), the log's times UTC.
    zone = ZoneInfo(staff_app.config["BABEL_DEFAULT_TIMEZONE"])
    day = (datetime.now(UTC) - timedelta(days=45)).astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    args = {"first": (monday - timedelta(days=14)).isoformat(), "last": day.isoformat()}
    older = staff.get("/staff/reports/search", query_string=args).text
    assert _totals(older) == (3, 0, 1)
    assert _table(older, "top")[0][:4] == ["đăng ký kết hôn", "3", "3", "1"]
    weeks = {row[0]: row[1:] for row in _table(older, "weeks")}
    assert len(weeks) == 3
    assert weeks[monday.isoformat()] == ["2", "0", "1"]
    chart = staff.get("/staff/reports/search/weeks.svg", query_string=args)
    assert chart.mimetype == "image/svg+xml"
    assert b"<script" not in chart.data


def test_a_bad_period_is_refused_in_vietnamese(login_as):
    staff = login_as("editor")
    backwards = staff.get("/staff/reports/search?first=2026-05-02&last=2026-05-01")
    assert backwards.status_code == 400
    assert "Ngày bắt đầu phải trước ngày kết thúc." in backwards.text
    garbage = staff.get("/staff/reports/search?first=hôm-qua")
    assert garbage.status_code == 400
    assert "Ngày không hợp lệ." in garbage.text
    too_long = staff.get("/staff/reports/search?first=2000-01-01&last=2026-01-01")
    assert too_long.status_code == 400
    assert "tối đa 731 ngày" in too_long.text


def test_the_click_redirect_goes_only_to_this_portals_pages(staff_app, login_as):
    visitor = login_as("anonymous")
    for code in ("https://evil.example/", "//evil.example", "1.000002", "khong-co"):
        assert visitor.get("/tim-kiem/mo", query_string={"log": 1, "code": code}).status_code == 404
    # A search trimmed from the log (or a made-up id) still leads to the page, unrecorded.
    response = visitor.get("/tim-kiem/mo?log=987654&code=1.000001")
    assert response.status_code == 302
    assert response.location == "/thu-tuc/1.000001"
    assert visitor.get("/tim-kiem/mo?log=x&code=1.000001").status_code == 302
    with staff_app.app_context():
        assert db.session.execute(select(func.count(SearchClick.id))).scalar_one() == 0


def test_an_admin_adds_a_synonym_from_a_query_that_found_nothing(staff_app, login_as):
    visitor = login_as("anonymous")
    _search(visitor, NOTHING)
    admin = login_as("admin")
    report = admin.get("/staff/reports/search")
    response = submit(admin, report, "/staff/reports/search/rule", target=FOUND, kind="synonym")
    assert response.status_code == 302
    after = admin.get(response.location).text
    assert f"“{NOTHING}” giờ cho 1 kết quả." in after
    assert _table(after, "zero")[0][:3] == [NOTHING, "1", "1 kết quả"]
    assert _result_links(_search(visitor, NOTHING))
    with staff_app.app_context():
        assert f"{NOTHING} => {FOUND}" in synonyms.load_text()


def test_an_admin_adds_an_english_glossary_entry(staff_app, login_as):
    visitor = login_as("anonymous")
    query = "qwzx permit"
    assert not _result_links(_search(visitor, query))
    admin = login_as("admin")
    report = admin.get("/staff/reports/search")
    response = submit(admin, report, "/staff/reports/search/rule", target=FOUND, kind="glossary")
    assert "giờ cho 1 kết quả" in admin.get(response.location).text
    assert _result_links(_search(visitor, query))
    with staff_app.app_context():
        assert synonyms.glossary_path().parent == synonyms.override_path().parent
        assert f"{query} => {FOUND}" in synonyms.glossary_path().read_text(encoding="utf-8")


def test_a_rule_that_would_break_the_dictionary_is_refused(staff_app, login_as):
    _search(login_as("anonymous"), NOTHING)
    admin = login_as("admin")
    with staff_app.app_context():
        before = synonyms.load_text()
    report = admin.get("/staff/reports/search")
    for target in ("a = b", "x # y", ""):
        response = submit(admin, report, "/staff/reports/search/rule", target=target)
        page = admin.get(response.location).text
        assert "Không dùng các dấu" in page or "Không được để trống." in page
    with staff_app.app_context():
        assert synonyms.load_text() == before


def test_the_log_keeps_no_address(staff_app, login_as):
    visitor = staff_app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = "203.0.113.42"
    _open_first(visitor, _search(visitor, FOUND))
    with staff_app.app_context():
        for table in ("search_log", "search_click"):
            columns = {c["name"] for c in inspect(db.engine).get_columns(table)}
            assert not columns & {"ip", "address", "remote_addr", "client", "user_agent"}
        dump = "\n".join(db.session.connection().connection.iterdump())
    assert "203.0.113.42" not in dump


def test_old_entries_go_on_the_next_search_and_by_command(staff_app, login_as):
    staff_app.config["SEARCH_LOG_RETENTION_DAYS"] = 30
    _log(staff_app, "cũ quá", 2, days_ago=31, clicks=2)
    _log(staff_app, "còn giữ", 2, days_ago=20, clicks=1)
    _search(login_as("anonymous"), FOUND)
    with staff_app.app_context():
        kept = db.session.execute(select(SearchLog.query).order_by(SearchLog.id)).scalars().all()
        clicks = db.session.execute(select(func.count(SearchClick.id))).scalar_one()
    assert kept == ["còn giữ", FOUND]
    assert clicks == 1
    result = staff_app.test_cli_runner().invoke(args=["search-log-purge", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "Đã xóa 1 lượt tìm kiếm cũ." in result.output
    with staff_app.app_context():
        assert db.session.execute(select(SearchLog.query)).scalars().all() == [FOUND]
        assert db.session.execute(select(func.count(SearchClick.id))).scalar_one() == 0


def _total(page) -> int:
    return int(re.search(r"Tìm thấy (\d+) thủ tục", page.text).group(1))


def test_on_the_real_catalogue(portal_app):
    with portal_app.app_context():
        accounts.create_user(accounts.Account("quan-tri", "admin", []), STAFF_PASSWORD)
    visitor = portal_app.test_client()
    queries = ["đăng ký khai sinh", "giấy phép xây dựng", "đăng ký khai sinh", "xqzvw ptkj"]
    totals = {q: _total(_search(visitor, q)) for q in queries}
    opened = _open_first(visitor, _search(visitor, "đăng ký khai sinh"))
    code = opened.rsplit("/", 1)[1]
    assert visitor.get(opened).status_code == 200
    admin = portal_app.test_client()
    submit(admin, admin.get("/staff/login"), username="quan-tri", password=STAFF_PASSWORD)
    html = admin.get("/staff/reports/search").text
    zero = [q for q in queries if totals[q] == 0]
    assert _totals(html) == (5, len(zero), 1)
    top = {row[0]: row for row in _table(html, "top")}
    assert top["đăng ký khai sinh"][:4] == ["đăng ký khai sinh", "3", str(totals[queries[0]]), "1"]
    assert top["giấy phép xây dựng"][:4] == [
        "giấy phép xây dựng",
        "1",
        str(totals[queries[1]]),
        "0",
    ]
    assert f"{code} (1)" in top["đăng ký khai sinh"][4]
    assert _queries(html, "zero") == zero
    expected = sorted(q for q in set(queries) - {queries[0]} if totals[q] > 0)
    assert _queries(html, "unopened") == expected
