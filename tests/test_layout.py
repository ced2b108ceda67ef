"""Layout defects that a reader meets: focus ring contrast (computed from the stylesheet), the
home page's focus order, the filters reached from the top of the results, words not broken
mid-syllable, and booklet contents whose page numbers never print over long titles."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from services.catalogue import records, store
from services.db import db
from tests.helpers import procedure_raw

SITE_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "site.css"


def _variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", css))


def _luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#f0b400", "#ffffff"), 2) == 1.87  # the old ring, as the issue says


def test_focus_rings_have_three_to_one_contrast_against_what_they_surround():
    css = SITE_CSS.read_text(encoding="utf-8")
    colours = _variables(css)
    ring = re.search(r"^:focus-visible \{ outline: 3px solid var\(--([\w-]+)\)", css, re.M)
    on_brand = re.search(r"\.site-header :focus-visible \{ outline-color: var\(--([\w-]+)\)", css)
    assert ring, "the focus ring is no longer drawn from a variable"
    assert on_brand, "the header has no focus ring of its own"
    for background in ("#ffffff", colours["bg"], colours["card"]):
        assert contrast(colours[ring.group(1)], background) >= 3
    assert contrast(colours[on_brand.group(1)], colours["brand"]) >= 3


def test_words_wrap_at_spaces_not_mid_syllable():
    css = SITE_CSS.read_text(encoding="utf-8")
    body = re.search(r"^body \{(.*?)\}", css, re.M | re.S).group(1)
    assert "overflow-wrap: break-word;" in body
    assert "overflow-wrap: anywhere" not in body


def test_home_search_box_does_not_take_the_focus(client):
    text = client.get("/").text
    assert "autofocus" not in text
    assert text.index('class="skip-link"') < text.index('id="q"')


def test_results_start_with_a_way_to_the_filters(client, make_procedure):
    make_procedure(name="Cấp giấy phép xây dựng nhà ở")
    text = client.get("/tim-kiem?q=giấy phép").text
    jump = text.index('class="filter-jump" href="#facets-title"')
    assert jump < text.index('class="procedure-list results"') < text.index('id="facets-title"')
    none = client.get("/tim-kiem?q=qwxzvk").text
    assert "Tìm thấy 0 thủ tục." in none
    assert "filter-jump" not in none  # no results, no filters to jump to


# --- booklet contents ---------------------------------------------------------------------------


def _words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """The words of one page with their boxes (xMin, yMin, xMax, yMax), from pdftotext."""
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out
    )
    return [(w, float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, w in found]


@pytest.fixture
def long_titles(app, make_agency):
    """An agency whose procedures' names wrap at every point of a line."""
    with app.app_context():
        store.store_settings(records.normalize_settings({"base_url": "https://tthc.example.vn"}))
        db.session.commit()
    make_agency(slug="so-xay-dung", name="Sở Xây dựng")
    phrase = "cấp giấy phép xây dựng công trình nhà ở riêng lẻ tại đô thị và nông thôn "
    words = (phrase * 2).split()
    for n in range(14):
        name = " ".join(["Thủ tục", *words[: 10 + n]])
        raw = procedure_raw(
            code=f"7.{n:06d}",
            name=name,
            agencies=[{"role": "implementing", "agency": "so-xay-dung"}],
        )
        with app.app_context():
            store.store_procedure(records.normalize_procedure(raw))
            db.session.commit()


def test_booklet_contents_page_numbers_never_print_over_titles(app, runner, long_titles, tmp_path):
    pdf = tmp_path / "so-tay.pdf"
    result = runner.invoke(args=["print-booklet", "--agency", "so-xay-dung", str(pdf)])
    assert result.exit_code == 0, result.output
    words = _words(pdf, 2)
    numbers = [w for w in words if w[0].isdigit()]
    assert len(numbers) == 14
    top, bottom = min(n[2] for n in numbers) - 30, max(n[4] for n in numbers)
    # The entries' words (leaders aside), not the page's running header and footer.
    text = [w for w in words if not w[0].isdigit() and w[0].strip(".") and top < w[2] < bottom]
    right = max(n[3] for n in numbers)
    for number, x0, y0, x1, y1 in numbers:
        assert abs(x1 - right) < 1, f"page number {number} is not in the right-hand column"
        for word, wx0, wy0, wx1, wy1 in text:
            same_line = wy0 < y1 and y0 < wy1
            assert not (same_line and wx0 < x1 and x0 < wx1), f"{number} prints over “{word}”"
    assert max(w[3] for w in text) < min(n[1] for n in numbers)  # a gutter before the numbers
