"""The heuristic parsers of the portal's run-together text and the agency resolver, on small
texts written for these tests in the portal's shapes."""

import pytest

from services.errors import ValidationError
from services.importers import agencies, channels, dossier, legal, parsing

CH = "Hình thức nộpThời gianPhí, lệ phíMô tả"
DS = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
LB = "Tên văn bản pháp lýMã văn bản"


def test_text_is_nfc_without_nbsp_and_empty_markers_read_as_empty():
    decomposed = "Co\u0302ng an xa\u0303"  # NFD
    assert parsing.value(f"  {decomposed}\u00a0 ") == "Công an xã"
    assert parsing.value("Không có thông tin") == ""
    assert parsing.block("Dòng một\r\n\r\n  Dòng\u00a0hai  ") == "Dòng một\nDòng hai"
    assert parsing.optional_block("Không") == parsing.optional_block("Không có.") == ""
    assert parsing.optional_block("Có giấy phép") == "Có giấy phép"


def test_names_split_on_commas_outside_parentheses_and_before_capitals():
    raw = (
        "Công dân Việt Nam, Cán bộ, công chức, viên chức, Tổ chức (không bao gồm doanh nghiệp, HTX)"
    )
    assert parsing.split_names(raw) == [
        "Công dân Việt Nam",
        "Cán bộ, công chức, viên chức",
        "Tổ chức (không bao gồm doanh nghiệp, HTX)",
    ]
    assert parsing.split_names("sổ đỏ, giấy phép", continued=False) == ["sổ đỏ", "giấy phép"]
    assert parsing.levels("Cấp Bộ, Cấp Xã, Cơ quan khác") == ["Cấp bộ", "Cấp xã", "Cơ quan khác"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 Ngày làm việc", (15, "working_days")),
        ("05 (năm) ngày làm việc kể từ ngày nhận đủ hồ sơ", (5, "working_days")),
        ("30 Ngày", (30, "days")),
        ("8 Giờ", (8, "hours")),
        ("1,5 Tháng", (1.5, "months")),
        ("7", (7, None)),
        ("Không quy định", (None, None)),
        ("Không có thông tin", (None, None)),
    ],
)
def test_time_limit_number_and_unit(text, expected):
    assert channels.time_limit(text) == expected


def test_unit_found_in_the_text_that_repeats_the_number():
    assert channels.unit_in("Trong thời hạn 07 ngày làm việc kể từ ...", 7) == "working_days"
    assert channels.unit_in("Trong thời hạn 17 ngày", 7) is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Lệ phí: 50.000 đồng/giấy phép", 50000),
        ("Phí : 2,500,000 Việt Nam Đồng", 2500000),
        ("Phí : 0 Đồng", 0),
        ("Miễn phí", 0),
        ("Phí : Không Đồng", 0),
        ("Lệ phí : 1.5 USD", None),
        ("Phí : 150.000 Đồng\nPhí : 300.000 Đồng", None),
        ("Phí : Mức thu theo Thông tư số 1/2016/TT-BTC ngày 11 tháng 11 năm 2016 Đồng", None),
        ("Theo quy định của Hội đồng nhân dân tỉnh", None),
        ("", None),
    ],
)
def test_fee_amount_in_dong(text, amount):
    assert channels.fee_amount(text) == amount


def _channels(text):
    return [
        (c["kind"], c["time_limit_value"], c["time_limit_unit"], c["fee_amount"])
        for c in channels.portal_channels(CH + text)
    ]


def test_channel_rows_split_with_time_fee_and_description():
    text = (
        "Trực tiếp15 Ngày làm việcMiễn phíNộp tại Bộ phận một cửa."
        "Trực tuyến15 Ngày làm việc50,000 Việt Nam Đồng(Lệ phí (theo Thông tư) 50.000 đồng/lần)"
        "Nộp qua Cổng dịch vụ công.Dịch vụ bưu chính10 NgàyKhông có thông tin(1) Trường hợp gửi"
        " qua bưu điện: 10 ngày."
    )
    rows = channels.portal_channels(CH + text)
    assert [(c["kind"], c["time_limit_value"], c["time_limit_unit"]) for c in rows] == [
        ("direct", 15, "working_days"),
        ("online", 15, "working_days"),
        ("postal", 10, "days"),
    ]
    assert rows[0]["fee_text"] == "Miễn phí"
    assert rows[0]["fee_amount"] == 0
    assert rows[0]["note"] == "Nộp tại Bộ phận một cửa."
    assert rows[1]["fee_amount"] == 50000
    assert rows[1]["fee_text"].startswith("50,000 Việt Nam Đồng (Lệ phí (theo Thông tư)")
    assert rows[1]["note"] == "Nộp qua Cổng dịch vụ công."
    assert rows[2]["fee_text"] == ""
    assert rows[2]["fee_amount"] is None
    assert rows[2]["note"].startswith("(1) Trường hợp gửi")
    assert rows[0]["time_limit_text"] == "15 Ngày làm việc"


def test_channel_time_without_unit_and_glued_amount():
    # "1" day and "20 VNĐ" run together; the note repeats the amount and settles the split.
    assert _channels("Trực tuyến120 VNĐ(20 VNĐ/tờ khai)") == [("online", 1, None, 20)]
    assert _channels("Trực tiếp7Miễn phí(Mức thu do Hội đồng nhân dân tỉnh quyết định)") == [
        ("direct", 7, None, None)
    ]
    assert _channels("Trực tiếp5 Ngày làm việc145 USD(145 USD/thẻ)") == [
        ("direct", 5, "working_days", None)
    ]
    assert _channels("Trực tiếpKhông phải trả kết quảMiễn phíQua bưu điện.") == [
        ("direct", None, None, 0)
    ]
    assert channels.portal_channels(CH) == []


def _dossier(text):
    return [
        (i["group"], i["originals"], i["copies"], i["template_name"])
        for i in dossier.portal_dossier(text)
    ]


def test_dossier_items_counts_groups_and_forms():
    text = (
        f"* Trường hợp cấp mới:{DS}Tờ khai theo mẫuMẫu số 01.docx1 bản chính"
        "Bản sao giấy tờ ngày 01/02/20240 bản chính,1 bản sao"
        f"- Trường hợp cấp lại:{DS}+ Nộp 02 bản chính tờ khai và 01 ảnh.2 bản chính"
        "Đơn đề nghị;Mẫu A.docxMẫu B.doc1 bản chính,2 bản sao"
    )
    assert _dossier(text) == [
        ("Trường hợp cấp mới", 1, 0, "Mẫu số 01.docx"),
        ("Trường hợp cấp mới", 0, 1, ""),
        ("Trường hợp cấp lại", 2, 0, ""),
        ("Trường hợp cấp lại", 1, 2, "Mẫu A.docx; Mẫu B.doc"),
    ]
    names = [i["name"] for i in dossier.portal_dossier(text)]
    assert names[1] == "Bản sao giấy tờ ngày 01/02/2024"
    assert names[2] == "+ Nộp 02 bản chính tờ khai và 01 ảnh."
    assert _dossier(f"--{DS}Giấy tờ nộp: 01 bản chính.1 bản chính") == [("", 1, 0, "")]
    assert dossier.portal_dossier("--") == []


def test_counts_from_labelled_text():
    assert dossier.counts("Bản chính: 1\nBản sao: 2") == (1, 2)
    assert dossier.counts("Bản chính: 0 - Bản sao: 1") == (0, 1)
    assert dossier.counts("") == (0, 0)


def test_legal_bases_rows_run_together():
    text = (
        f"{LB}Luật 54/2014/QH1354/2014/QH13"
        "Nghị định số 123/2015/NĐ-CP ngày 15/11/2015 của Chính phủ123/2015/NĐ-CP"
        "Luật Cư trú 202068/2020/QH14"
        "Luật Các tổ chức tín dụngLuật số 32/2024/QH15"
        "Quyết định về quy chế12/2021/QĐ-TTg"
        "Thông tư sửa đổi Thông tư số 1/2020/TT-BTC và Nghị định số 2/2021/NĐ-CP3/2022/TT-BTC"
    )
    bases = legal.portal_legal_bases(text)
    assert [b["number"] for b in bases] == [
        "54/2014/QH13",
        "123/2015/NĐ-CP",
        "68/2020/QH14",
        "32/2024/QH15",
        "12/2021/QĐ-TTg",
        "3/2022/TT-BTC",
    ]
    assert bases[1]["issued_date"] == "2015-11-15"
    assert bases[3]["title"] == "Luật Các tổ chức tín dụng"
    assert bases[2]["title"] == "Luật Cư trú 2020"
    assert legal.portal_legal_bases(f"{LB}Không có thông tin") == []


def test_results_keywords_and_description():
    text = (
        "Giấy phépMã: KQ.G01.000001Văn bản từ chốiMã: G19-KQ0060102"
        "Từ khóagiấy phép, cấp phépMô tảCấp cho tổ chức.Chọn cơ quan thực hiệnTỉnh"
    )
    results, keywords, description = parsing.portal_results(text)
    assert results == [
        {"name": "Giấy phép", "code": "KQ.G01.000001"},
        {"name": "Văn bản từ chối", "code": "G19-KQ0060102"},
    ]
    assert keywords == ["giấy phép", "cấp phép"]
    assert description == "Cấp cho tổ chức."


def test_steps_split_where_the_text_numbers_them():
    assert parsing.steps("Bước 1: Nộp hồ sơ. Bước 2: Nhận kết quả.") == [
        "Bước 1: Nộp hồ sơ.",
        "Bước 2: Nhận kết quả.",
    ]
    assert parsing.steps("a) Nộp hồ sơ;\nb) Nhận kết quả.") == ["a) Nộp hồ sơ;", "b) Nhận kết quả."]
    assert parsing.steps("Nộp hồ sơ tại một cửa.\n- Nhận kết quả.") == [
        "Nộp hồ sơ tại một cửa.\n- Nhận kết quả."
    ]
    assert parsing.steps("Không có thông tin") == []


def test_agency_text_split_and_resolved_to_canonical_agencies():
    resolver = agencies.Resolver()
    links = resolver.links(
        "Cục Thuế - Bộ tài chính, Thuế tỉnh, thành phố, Thuế cơ sở", "implementing"
    )
    assert [(link["name"], link["agency"]) for link in links] == [
        ("Cục Thuế - Bộ tài chính", "cuc-thue"),
        ("Thuế tỉnh, thành phố", "thue-tinh-thanh-pho"),
        ("Thuế cơ sở", "thue-co-so"),
    ]
    needed = [record["slug"] for record in resolver.needed(links)]
    assert needed.index("bo-tai-chinh") < needed.index("cuc-thue") < needed.index("thue-co-so")
    same = {
        resolver.resolve(name)
        for name in (
            "Ủy ban Nhân dân\u00a0xã,\u00a0phường,\u00a0thị trấn.",
            "UBND cấp  xã",
            "Chủ tịch Ủy ban nhân dân xã",
        )
    }
    assert same == {"uy-ban-nhan-dan-cap-xa"}


def test_unknown_agencies_get_a_kind_and_a_parent_from_their_names():
    resolver = agencies.Resolver()
    province = resolver.resolve("Sở Nông nghiệp và Môi trường Thành phố Hà Nội")
    assert resolver.record(province)["parent"] == "uy-ban-nhan-dan-thanh-pho-ha-noi"
    assert resolver.record("uy-ban-nhan-dan-thanh-pho-ha-noi")["kind"] == "people_committee"
    central = resolver.resolve("Cục Quản lý thử nghiệm", agencies.ministry_of("5/QĐ-BTP"))
    assert (resolver.record(central)["kind"], resolver.record(central)["parent"]) == (
        "department",
        "bo-tu-phap",
    )
    district = resolver.resolve("Phòng Văn hóa và Thông tin")
    assert resolver.record(district)["parent"] == "uy-ban-nhan-dan-cap-huyen"
    assert resolver.resolve("* Ghi đầy đủ lời chứng") is None
    assert resolver.resolve("Hợp tác xãCơ quan có thẩm quyền") is None


def test_mapping_file_maps_names_and_slugs(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text(
        '[agencies]\n"Ủy ban nhân dân cấp xã" = "ubnd-xa-a"\n"so-tu-phap" = "so-tu-phap-b"\n',
        encoding="utf-8",
    )
    mapping = agencies.read_mapping(path)
    assert mapping == {"uy-ban-nhan-dan-cap-xa": "ubnd-xa-a", "so-tu-phap": "so-tu-phap-b"}
    resolver = agencies.Resolver(mapping)
    links = resolver.links("Văn phòng Sở Tư pháp, UBND cấp xã", "implementing")
    assert [link["agency"] for link in links] == ["van-phong-so-tu-phap", "ubnd-xa-a"]
    assert [(r["slug"], r["parent"]) for r in resolver.needed(links)] == [
        ("van-phong-so-tu-phap", "so-tu-phap-b")
    ]


@pytest.mark.parametrize(
    "content",
    ["not = [toml", '[other]\n"a" = "b"\n', '[agencies]\n"Sở Tư pháp" = "Not A Slug"\n'],
)
def test_bad_mapping_file_is_refused_with_a_reason(tmp_path, content):
    path = tmp_path / "map.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match="ánh xạ"):
        agencies.read_mapping(path)
