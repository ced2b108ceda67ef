"""Public pages through the test client: every page of the demo renders, content is escaped,
unknown addresses get a Vietnamese 404."""

import re

import pytest

from services.catalogue import queries
from services.db import db
from services.models import Agency, Field, Procedure, Status


def _links(html, prefix):
    return sorted(set(re.findall(rf'href="({re.escape(prefix)}[^"#?]+)"', html)))


def test_every_demo_page_renders(demo_app, demo_client):
    with demo_app.app_context():
        codes = [
            p.code
            for p in db.session.query(Procedure).filter(
                Procedure.status.in_([Status.PUBLISHED, Status.ABOLISHED])
            )
        ]
        agencies = [a.slug for a in db.session.query(Agency)]
        fields = [f.slug for f in db.session.query(Field)]
    assert len(codes) >= 60
    assert len(agencies) >= 10
    urls = ["/", "/co-quan", "/linh-vuc", "/tim-kiem", "/thu-tuc.csv"]
    urls += [f"/thu-tuc/{c}" for c in codes]
    urls += [f"/co-quan/{s}" for s in agencies]
    urls += [f"/linh-vuc/{s}" for s in fields]
    for url in urls:
        response = demo_client.get(url)
        assert response.status_code == 200, url


def test_home_shows_browsing_recent_and_desk(demo_app, demo_client):
    html = demo_client.get("/").get_data(as_text=True)
    with demo_app.app_context():
        site = queries.get_settings()
        recent = queries.recent_procedures(1)[0]
    assert 'role="search"' in html
    for heading in (
        "Theo cơ quan thực hiện",
        "Theo lĩnh vực",
        "Theo cấp thực hiện",
        "Theo đối tượng thực hiện",
        "Mới cập nhật",
    ):
        assert heading in html
    assert site.desk_phone in html
    assert site.desk_email in html
    assert recent.name in html
    assert _links(html, "/tim-kiem?agency=")
    assert _links(html, "/tim-kiem?level=")


def test_procedure_page_shows_every_section(demo_app, demo_client):
    with demo_app.app_context():
        procedure = next(
            p
            for p in queries.all_procedures(public=True)
            if p.status == Status.PUBLISHED and p.related and p.legal_bases
        )
        expected = {
            "name": procedure.name,
            "decision": procedure.decision_number,
            "step": procedure.steps[0].text,
            "dossier": procedure.dossier[0].name,
            "basis": procedure.legal_bases[0].number,
            "result": procedure.results[0].name,
            "agency": procedure.main_agency.name,
        }
        code = procedure.code
    response = demo_client.get(f"/thu-tuc/{code}")
    html = response.get_data(as_text=True)
    from markupsafe import escape

    for key, text in expected.items():
        assert str(escape(text)) in html, key
    for heading in (
        "Trình tự thực hiện",
        "Cách thức thực hiện",
        "Thành phần hồ sơ",
        "Căn cứ pháp lý",
        "Kết quả thực hiện",
        "Cơ quan thực hiện",
        "Thủ tục liên quan",
        "Cập nhật lần cuối",
    ):
        assert heading in html, heading
    assert '<html lang="vi">' in html


def test_abolished_procedure_stays_reachable_and_links_replacement(demo_app, demo_client):
    with demo_app.app_context():
        abolished = db.session.query(Procedure).filter_by(status=Status.ABOLISHED).first()
        code, replacement = abolished.code, abolished.replaced_by.code
    html = demo_client.get(f"/thu-tuc/{code}").get_data(as_text=True)
    assert "Thủ tục này đã bị bãi bỏ" in html
    assert f'href="/thu-tuc/{replacement}"' in html


def test_draft_is_not_public(demo_app, demo_client):
    with demo_app.app_context():
        draft = db.session.query(Procedure).filter_by(status=Status.DRAFT).first()
        code = draft.code
    assert demo_client.get(f"/thu-tuc/{code}").status_code == 404
    assert code not in demo_client.get("/thu-tuc.csv").get_data(as_text=True)


def test_retired_agency_says_so_and_links_successor(demo_app, demo_client):
    with demo_app.app_context():
        retired = db.session.query(Agency).filter(Agency.successor_id.is_not(None)).first()
        slug, successor = retired.slug, retired.successor.slug
    html = demo_client.get(f"/co-quan/{slug}").get_data(as_text=True)
    assert "đã thôi hoạt động" in html
    assert f'href="/co-quan/{successor}"' in html
    successor_html = demo_client.get(f"/co-quan/{successor}").get_data(as_text=True)
    assert f'href="/co-quan/{slug}"' in successor_html  # "took over the work of"


def test_agency_index_shows_the_hierarchy(demo_client):
    html = demo_client.get("/co-quan").get_data(as_text=True)
    # Nested lists: the district's departments sit under it.
    assert html.count('<ul class="agency-tree">') >= 2


@pytest.mark.parametrize(
    "url",
    ["/thu-tuc/9.999999", "/co-quan/khong-co", "/linh-vuc/khong-co", "/khong-co-trang-nay"],
)
def test_unknown_addresses_get_a_vietnamese_404(demo_client, url):
    response = demo_client.get(url)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy" in html
    assert "Về trang chủ" in html


def test_content_is_escaped(app, client, make_agency, make_procedure):
    make_agency(slug="p", name="<script>alert(1)</script>")
    procedure = make_procedure(
        name="Tên <b>đậm</b>",
        agencies=[{"role": "implementing", "agency": "p", "name": ""}],
        steps=["<img src=x onerror=alert(1)>"],
    )
    html = client.get(f"/thu-tuc/{procedure.code}").get_data(as_text=True)
    assert "<b>đậm</b>" not in html
    assert "Tên &lt;b&gt;đậm&lt;/b&gt;" in html
    assert "<img src=x" not in html
    assert "<script>alert(1)</script>" not in client.get("/co-quan/p").get_data(as_text=True)


def test_csv_download(demo_client):
    response = demo_client.get("/thu-tuc.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
