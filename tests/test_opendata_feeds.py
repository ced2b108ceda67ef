"""The record of published changes through the paths people take: editing and publishing in the
staff area, then reading /api/v1/changes, /api/v1/procedures?updated_since= and the Atom feeds
(checked against RFC 4287 with feedparser and the XML itself). Abolitions appear as such."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import feedparser
import pytest

from tests.helpers import submit

P = "/staff/procedures/1.000001"
BASE = "https://tthc.example.vn"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app(staff_app):
    return staff_app


def _set_base(login_as, base: str = BASE) -> None:
    admin = login_as("admin")
    page = admin.get("/staff/admin/settings")
    assert submit(admin, page, "", base_url=base, portal_name="Cổng thử").status_code == 302


def _publish_edit(login_as, **changes) -> None:
    publisher = login_as("publisher")
    page = publisher.get(f"{P}/edit")
    assert submit(publisher, page, "", **changes).status_code == 302
    page = publisher.get(P)
    assert submit(publisher, page, f"{P}/publish", note="Công bố").status_code == 302


def _abolish(login_as, reason: str) -> None:
    publisher = login_as("publisher")
    page = publisher.get(f"{P}/abolish")
    assert submit(publisher, page, "", reason=reason).status_code == 302


def test_publishing_and_abolishing_are_listed_with_what_changed(staff_app, login_as):
    client = staff_app.test_client()
    assert client.get("/api/v1/changes").json["changes"] == []

    _publish_edit(login_as, channels__0__time_limit_value="3", channels__0__fee_amount="30000",
                  channels__0__time_limit_text="03 ngày làm việc",
                  dossier__0__name="Tờ khai theo mẫu mới")  # fmt: skip
    listed = client.get("/api/v1/changes?since=0").json
    assert [c["code"] for c in listed["changes"]] == ["1.000001"]
    first = listed["changes"][0]
    assert first["kind"] == "published"
    assert "Thời hạn: 5 ngày làm việc → 3 ngày làm việc" in " ".join(first["summary"])
    assert "Số tiền: 50000 → 30000" in " ".join(first["summary"])
    assert "Tờ khai → Tờ khai theo mẫu mới" in " ".join(first["summary"])
    assert first["record"]["channels"][0]["time_limit_value"] == 3
    assert listed["latest"] == first["sequence"] == listed["next"]

    _abolish(login_as, "Đã có quy định mới")
    after = client.get(f"/api/v1/changes?since={first['sequence']}").json["changes"]
    assert [(c["code"], c["kind"]) for c in after] == [("1.000001", "abolished")]
    assert after[0]["summary"] == ["Thủ tục bị bãi bỏ. Lý do: Đã có quy định mới"]
    assert after[0]["sequence"] > first["sequence"]
    assert client.get(f"/api/v1/changes?since={after[0]['sequence']}").json["changes"] == []


def test_a_save_without_publication_and_a_draft_are_not_changes(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get(f"{P}/edit")
    assert submit(editor, page, "", name="Tên chưa công bố").status_code == 302
    assert staff_app.test_client().get("/api/v1/changes").json["changes"] == []


@pytest.mark.parametrize(
    "query", ["since=-1", "since=abc", "since=1.5", "limit=0x", "limit=100000"]
)
def test_a_bad_change_list_query_is_refused_in_vietnamese(staff_app, query):
    response = staff_app.test_client().get(f"/api/v1/changes?{query}")
    assert response.status_code == 400
    assert "phải là số nguyên" in response.json["error"]


def test_updated_since_returns_exactly_what_was_published_after(staff_app, login_as):
    client = staff_app.test_client()
    time.sleep(1.1)  # stored times have whole seconds: the fixture's are before `moment`
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"/api/v1/procedures?updated_since={moment}").json["results"] == []

    _publish_edit(login_as, name="Tên mới đã công bố")
    found = client.get(f"/api/v1/procedures?updated_since={moment}").json
    assert found["total"] == 1
    assert [(r["code"], r["name"]) for r in found["results"]] == [
        ("1.000001", "Tên mới đã công bố")
    ]
    # A day before includes the fixture's published procedure too, but never the draft.
    every = client.get("/api/v1/procedures?updated_since=2000-01-01").json["results"]
    codes = [r["code"] for r in every]
    assert "1.000001" in codes
    assert "1.000002" not in codes


@pytest.mark.parametrize("value", ["hôm qua", "2026-13-01", "01/12/2026", ""])
def test_a_bad_updated_since_is_refused_in_vietnamese(staff_app, value):
    response = staff_app.test_client().get(f"/api/v1/procedures?updated_since={value}")
    assert response.status_code == 400
    assert "updated_since phải là ngày theo ISO 8601" in response.json["error"]


def test_updated_since_with_a_search_is_refused(staff_app):
    response = staff_app.test_client().get("/api/v1/procedures?updated_since=2026-01-01&q=a")
    assert response.status_code == 400
    assert "không dùng cùng với q" in response.json["error"]


def _check_atom(xml: bytes) -> ET.Element:
    """RFC 4287's rules for a feed and its entries (4.1.1, 4.1.2): one id, title and updated
    each; an author on the feed or on every entry; a self link; unique entry ids."""
    root = ET.fromstring(xml)
    assert root.tag == f"{ATOM}feed"
    for element in [root, *root.findall(f"{ATOM}entry")]:
        for tag in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{tag}")) == 1, tag
        datetime.fromisoformat(element.find(f"{ATOM}updated").text)
    entries = root.findall(f"{ATOM}entry")
    assert root.findall(f"{ATOM}author/{ATOM}name") or all(
        e.findall(f"{ATOM}author/{ATOM}name") for e in entries
    )
    assert [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(ids) == len(set(ids))
    return root


def test_the_atom_feeds_are_valid_and_say_what_changed(staff_app, login_as):
    client = staff_app.test_client()
    _set_base(login_as)
    _publish_edit(
        login_as, channels__0__time_limit_value="3", channels__0__time_limit_text="03 ngày"
    )
    _abolish(login_as, "Đã có quy định mới")

    response = client.get("/thay-doi.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    _check_atom(response.data)
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    assert feed.version == "atom10"
    assert feed.feed.id == f"{BASE}/thay-doi.atom"
    assert feed.feed.author == "Cổng thử"
    titles = [entry.title for entry in feed.entries]
    assert titles[0].startswith("Bãi bỏ:")
    assert titles[1].startswith("Cập nhật:")
    assert "Lý do: Đã có quy định mới" in feed.entries[0].summary
    assert "5 ngày làm việc → 3 ngày làm việc" in feed.entries[1].summary
    assert all(entry.link == f"{BASE}/thu-tuc/1.000001" for entry in feed.entries)
    assert all(entry.author == "Phòng A" for entry in feed.entries)

    assert len(feedparser.parse(client.get("/co-quan/phong-a/thay-doi.atom").data).entries) == 2
    assert len(feedparser.parse(client.get("/linh-vuc/ho-tich/thay-doi.atom").data).entries) == 2
    other = client.get("/co-quan/phong-b/thay-doi.atom")
    _check_atom(other.data)
    assert feedparser.parse(other.data).entries == []
    assert len(feedparser.parse(client.get("/linh-vuc/chung-thuc/thay-doi.atom").data).entries) == 0


def test_feeds_of_unknown_agencies_and_fields_are_not_found(staff_app, login_as):
    _set_base(login_as)
    client = staff_app.test_client()
    assert client.get("/co-quan/khong-co/thay-doi.atom").status_code == 404
    assert client.get("/linh-vuc/khong-co/thay-doi.atom").status_code == 404


def test_without_a_base_url_the_feed_says_why(staff_app):
    response = staff_app.test_client().get("/thay-doi.atom")
    assert response.status_code == 503
    assert "Chưa đặt địa chỉ trang thông tin (base_url)" in response.text


def test_a_forged_host_never_reaches_the_feeds_or_the_change_list(staff_app, login_as):
    _set_base(login_as)
    _publish_edit(login_as, name="Tên mới")
    client = staff_app.test_client()
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in ("/thay-doi.atom", "/co-quan/phong-a/thay-doi.atom", "/api/v1/changes",
                 "/api/v1/procedures?updated_since=2000-01-01"):  # fmt: skip
        response = client.get(path, headers=forged)
        assert response.status_code == 200, path
        assert "evil.example" not in response.text, path
        assert BASE in response.text, path
