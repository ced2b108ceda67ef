"""For search engines: /sitemap.xml lists every published procedure, agency and lĩnh vực with
the date it last changed, under the configured base URL; /robots.txt keeps crawlers out of the
staff area, search results and PDFs and points to the sitemap."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from services.catalogue import queries
from services.db import db
from services.models import Agency, Field, Status

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "http://127.0.0.1:5000"


def _urls(xml: bytes) -> dict[str, str | None]:
    root = ET.fromstring(xml)
    assert root.tag == f"{SM}urlset"
    out = {}
    for url in root.findall(f"{SM}url"):
        lastmod = url.find(f"{SM}lastmod")
        out[url.find(f"{SM}loc").text] = lastmod.text if lastmod is not None else None
    return out


def test_the_sitemap_lists_every_public_page_with_its_last_change(demo_app, demo_client):
    response = demo_client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    urls = _urls(response.data)
    with demo_app.app_context():
        procedures = queries.all_procedures(public=True)
        agencies = db.session.execute(db.select(Agency.slug)).scalars().all()
        fields = db.session.execute(db.select(Field.slug)).scalars().all()
        for procedure in procedures:
            url = f"{BASE}/thu-tuc/{procedure.code}"
            if procedure.status == Status.PUBLISHED:
                assert urls[url] == procedure.updated_at.date().isoformat()
            else:
                assert url not in urls  # abolished: a page, but not one to send people to
        newest = max(p.updated_at for p in procedures if p.status == Status.PUBLISHED)
    assert all(f"{BASE}/co-quan/{slug}" in urls for slug in agencies)
    assert all(f"{BASE}/linh-vuc/{slug}" in urls for slug in fields)
    assert urls[f"{BASE}/"] == newest.date().isoformat()
    for url in urls:  # every listed page exists
        assert demo_client.get(url.removeprefix(BASE)).status_code == 200, url


def test_an_agencys_lastmod_is_its_newest_procedure(demo_app, demo_client):
    urls = _urls(demo_client.get("/sitemap.xml").data)
    with demo_app.app_context():
        node = max(queries.agency_tree(), key=lambda n: n.count)
        groups = queries.agency_procedures(node.agency)
        newest = max(p.updated_at for g in groups for p in g.procedures)
    assert urls[f"{BASE}/co-quan/{node.agency.slug}"] == newest.date().isoformat()


def test_robots_keeps_crawlers_out_and_points_to_the_sitemap(demo_client):
    response = demo_client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.text.splitlines()
    for rule in ("Disallow: /staff/", "Disallow: /tim-kiem", "Disallow: /*.pdf$"):
        assert rule in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def test_without_a_base_url_robots_names_no_sitemap_and_the_sitemap_says_why(client):
    robots = client.get("/robots.txt", headers={"Host": "evil.example"})
    assert "Disallow: /staff/" in robots.text
    assert "Sitemap" not in robots.text
    response = client.get("/sitemap.xml")
    assert response.status_code == 503
    assert "Chưa đặt địa chỉ trang thông tin (base_url)" in response.text
