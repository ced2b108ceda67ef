"""Vietnamese text helpers: normalization, folding, slugs and dictionary order."""

import unicodedata

from services.text import clean, clean_block, fold, slugify, sort_key


def test_clean_makes_nfc_and_single_spaces():
    decomposed = unicodedata.normalize("NFD", "Đăng  ký\u00a0khai sinh ")
    assert clean(decomposed) == "Đăng ký khai sinh"
    assert unicodedata.is_normalized("NFC", clean(decomposed))
    assert clean(None) == ""


def test_clean_block_keeps_lines_and_drops_empty_ones():
    assert clean_block("a  b\r\n\r\n  c ") == "a b\nc"


def test_fold_strips_every_diacritic_and_d_bar():
    assert fold("Cấp Giấy phép xây dựng") == "cap giay phep xay dung"
    assert fold("ĐĂNG KÝ đất đai") == "dang ky dat dai"
    assert fold(unicodedata.normalize("NFD", "Ủy ban")) == "uy ban"


def test_slugify():
    assert slugify("Phòng Tư pháp") == "phong-tu-phap"
    assert slugify("  UBND xã Đô Lương!! ") == "ubnd-xa-do-luong"


def test_sort_key_orders_letters_as_a_vietnamese_dictionary():
    words = ["Đông", "Dương", "Ấp", "Ăn", "An", "Bình", "Đa", "Ơn", "Ô", "O", "Ưu", "Uy", "Z"]
    assert sorted(words, key=sort_key) == [
        "An", "Ăn", "Ấp", "Bình", "Dương", "Đa", "Đông", "O", "Ô", "Ơn", "Uy", "Ưu", "Z",
    ]  # fmt: skip


def test_sort_key_orders_tones_after_letters():
    tones = ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(["mạ", "má", "ma", "mã", "mả", "mà"], key=sort_key) == tones
    # The letters decide first: "mạ" (letters m-a) comes before "mai" whatever the tones.
    assert sorted(["mai", "mạ"], key=sort_key) == ["mạ", "mai"]


def test_sort_key_is_ascii_and_shorter_words_come_first():
    assert sort_key("Xã hội").isascii()
    assert sorted(["Xây dựng", "Xã hội", "Xã"], key=sort_key) == ["Xã", "Xã hội", "Xây dựng"]
    assert sort_key("ĐĂNG KÝ") > sort_key("đăng ký")  # case only breaks ties
