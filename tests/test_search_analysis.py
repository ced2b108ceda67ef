"""Vietnamese analysis, the synonym dictionary and highlighting, without an index."""

import unicodedata

import pytest

from services.errors import ValidationError
from services.search import analysis, highlight, query, synonyms
from services.search.query import parse


def test_folding_removes_every_diacritic_and_d_bar():
    assert analysis.terms("Cấp Giấy phép Xây dựng") == ["cap", "giay", "phep", "xay", "dung"]
    assert analysis.terms("ĐĂNG KÝ ĐẤT ĐAI") == ["dang", "ki", "dat", "dai"]
    letters = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
    folded = analysis.fold_text(letters + letters.upper())
    assert set(folded) <= set("aeioudy")
    assert len(folded) == 2 * len(letters)  # one character for one: highlight offsets hold


def test_decomposed_text_is_the_same_as_composed():
    composed = "Đăng ký khai sinh cho trẻ em"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert analysis.terms(decomposed) == analysis.terms(composed)
    assert analysis.exact_terms(decomposed) == analysis.exact_terms(composed)


def test_short_syllables_and_english_words_are_kept():
    assert analysis.terms("Sở Y tế") == ["so", "y", "te"]
    assert analysis.terms("xe ô tô, an toàn, in ấn") == ["xe", "o", "to", "an", "toan", "in", "an"]
    assert analysis.terms("the can to may") == ["the", "can", "to", "may"]


def test_both_spellings_of_final_i_and_y_are_one_word():
    assert analysis.terms("kỹ thuật") == analysis.terms("kĩ thuật") == ["ki", "thuat"]
    assert analysis.terms("quý") == analysis.terms("quí") == ["qui"]
    assert analysis.terms("công ty") == ["cong", "ti"]
    # Only a lone final i/y after a consonant: "tay" and "tai" stay apart.
    assert analysis.terms("tay tai huy") == ["tay", "tai", "huy"]
    assert analysis.accent_key("Kỹ") == analysis.accent_key("kĩ")


def test_codes_and_decision_numbers_stay_whole_and_split():
    assert analysis.terms("1.001193") == ["1.001193", "1", "001193"]
    assert analysis.terms("Quyết định 163/QĐ-BTP") == [
        "quyet", "dinh", "163/qd-btp", "163", "qd", "btp",
    ]  # fmt: skip
    assert analysis.syllables("163/QĐ-BTP ngày") == ["163", "qd", "btp", "ngay"]


def test_pairs_follow_the_order_of_syllables():
    assert analysis.pairs(analysis.syllables("Cấp giấy phép")) == ["cap_giay", "giay_phep"]
    analyzer = analysis.SyllablePairAnalyzer()
    # One text per line: no pair across two keywords.
    assert analyzer.terms("sổ đỏ\nbìa hồng") == ["so_do", "bia_hong"]


def test_whoosh_analyzers_yield_each_term_once():
    tokens = [t.text for t in analysis.VietnameseAnalyzer()("hộ kinh doanh, hộ gia đình")]
    assert tokens == ["ho", "kinh", "doanh", "gia", "dinh"]
    exact = [t.text for t in analysis.VietnameseAnalyzer(exact=True)("Hộ HỘ hộ")]
    assert exact == ["hộ"]


def test_shipped_dictionary_parses_and_maps_abbreviations_and_english():
    dictionary = synonyms.build(
        synonyms.SHIPPED.read_text(encoding="utf-8"), synonyms.GLOSSARY.read_text(encoding="utf-8")
    )
    gpxd = dictionary.alternatives[("gpxd",)]
    assert ("giay", "phep", "xay", "dung") in gpxd
    assert ("gpxd",) in dictionary.alternatives[("giay", "phep", "xay", "dung")]
    vat = dictionary.alternatives[("vat", "refund")]  # "refund" cannot be Vietnamese: always
    assert ("hoan", "thue", "gia", "tri", "gia", "tang") in vat
    assert ("hoan", "thue", "gtgt") in vat  # GTGT = giá trị gia tăng reaches into the phrase
    assert ("vat", "refund") in dictionary.one_way
    assert ("work", "permits") in dictionary.alternatives  # plurals of the glossary's terms
    # English words that may be Vietnamese syllables ("an" toàn, "the" = thẻ) are optional only
    # in a query read as English.
    for word in ("an", "the"):
        assert (word,) not in dictionary.optional
        assert (word,) in dictionary.english.optional
    # One-way: the formal words do not find the everyday ones.
    assert ("so", "do") not in dictionary.alternatives.get(
        ("giay", "chung", "nhan", "quyen", "su", "dung", "dat"), []
    )
    for abbreviation in ("gplx", "cccd", "cmnd", "dkkd", "pccc", "bhxh", "bhyt", "qsdd", "mst"):
        assert (abbreviation,) in dictionary.alternatives, abbreviation
    assert ("ho", "kd") in dictionary.alternatives
    assert ("thu", "tuc") in dictionary.optional


def test_dictionary_rules_and_their_errors():
    dictionary = synonyms.parse("# ghi chú\nA = b c  # cuối dòng\nx, y => z\n? phụ, từ phụ\n\n")
    assert dictionary.alternatives[("a",)] == [("b", "c")]
    assert dictionary.alternatives[("b", "c")] == [("a",)]
    assert dictionary.alternatives[("x",)] == [("z",)]
    assert ("z",) not in dictionary.alternatives
    assert dictionary.optional == {("phu",), ("tu", "phu")}
    match = dictionary.match(["x", "b", "c"], 1)
    assert (match.length, match.alternatives, match.one_way) == (2, [("a",)], False)
    with pytest.raises(ValidationError, match="Dòng 2"):
        synonyms.parse("a = b\nkhông có dấu bằng\n")
    with pytest.raises(ValidationError, match="Dòng 1"):
        synonyms.parse("a = , b\n")


def test_edited_dictionary_overrides_the_shipped_one_until_reset(app):
    with app.app_context():
        assert not synonyms.is_customized()
        synonyms.save_text("xin giấy phép con => giấy phép kinh doanh\n")
        assert synonyms.is_customized()
        assert synonyms.load_text().startswith("xin giấy phép con")
        assert ("xin", "giay", "phep", "con") in synonyms.current().alternatives
        with pytest.raises(ValidationError):
            synonyms.save_text("dòng sai\n")
        assert synonyms.load_text().startswith("xin giấy phép con")  # the bad text was not kept
        synonyms.reset()
        assert ("gpxd",) in synonyms.current().alternatives


def test_query_plan_is_built_from_words_never_from_syntax():
    dictionary = synonyms.parse("? thủ tục\nGPXD = giấy phép xây dựng\n")
    plan = parse('thủ tục GPXD "name:x* AND OR NOT 1.001193', dictionary)
    typed = [c.typed.syllables for c in plan.concepts]
    assert typed == [("thu", "tuc"), ("gpxd",), ("name",), ("x",), ("and",), ("or",),
                     ("not",), ("1.001193",)]  # fmt: skip
    assert plan.concepts[0].optional
    assert plan.concepts[1].alternatives[1].syllables == ("giay", "phep", "xay", "dung")
    assert plan.concepts[-1].typed.whole == "1.001193"


def test_long_queries_are_cut():
    plan = parse("đăng ký " * 1000, synonyms.Dictionary())
    assert plan.truncated
    assert len(plan.words) == query.MAX_WORDS
    assert parse("!!! ??? ...", synonyms.Dictionary()).concepts == []


def test_highlight_marks_accented_words_from_a_plain_query_and_escapes():
    terms = {"giay", "phep", "xay", "dung", "ki"}
    marked = highlight.mark("Cấp Giấy phép <xây dựng> & kỹ thuật", terms)
    assert str(marked) == (
        "Cấp <mark>Giấy phép</mark> &lt;<mark>xây dựng</mark>&gt; &amp; <mark>kỹ</mark> thuật"
    )
    assert str(highlight.mark("<script>alert(1)</script>", {"alert"})) == (
        "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"
    )


def test_snippet_shows_the_part_that_matches():
    text = " ".join(["Bước chuẩn bị hồ sơ."] * 30 + ["Nộp lệ phí trước bạ tại Chi cục Thuế."])
    snippet = str(highlight.snippet(text, {"le", "phi", "truoc", "ba"}))
    assert "<mark>lệ phí trước bạ</mark>" in snippet
    assert snippet.startswith("…")
    assert str(highlight.snippet("Không khớp gì.", {"xyz"})) == "Không khớp gì."
