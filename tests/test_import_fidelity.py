"""Field-level fidelity: the structure read from real records of sets (a), (b) and (c), held to
values checked by hand against the raw text of each record.

Each expectation lists the channels ("kind time-limit fee", unit wd = ngày làm việc, d = ngày,
h = giờ; fee in đồng, 0 when free, "-" when unknown or not one amount in đồng), the dossier items
("bản chính/bản sao" per item, in order), the legal basis numbers and the result codes.
"""

import json
from pathlib import Path

import pytest

from services.importers import agencies, csdl2021, doc_export, portal_json

UNITS = {"working_days": "wd", "days": "d", "hours": "h", "months": "m", None: ""}

# Set (a), the portal's pages: chosen to cover time limits without units, amounts glued to the
# time, fees in dollars, text time limits, dossier groups and forms, counts written inside names,
# legal numbers glued to titles and prefixed ("Luật số ..."), several results.
PORTAL = {
    "1.000080": (
        "online 7 -, postal 7 -, direct 7 -",
        "1/0 0/0 1/0 0/0 0/0 1/0 0/0 1/0 1/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 0/0 "
        "0/0 0/0 0/0 0/0 1/0 1/0 0/0",
        "85/2019/TT-BTC 104/2022/NĐ-CP 123/2015/NĐ-CP 87/2020/NĐ-CP 18/2026/NĐ-CP "
        "04/2024/TT-BTP 106/2021/TT-BTC 04/2020/TT-BTP 07/2025/NĐ-CP 120/2025/NĐ-CP "
        "66.7/2025/NQ-CP 01/2022/TT-BTP 03/2023/TT-BTP 42/2020/NĐ-CP 60/2014/QH13",
        "KQ.G15.000033",
    ),
    "1.011325": (
        "online 5wd 2000000, postal 5wd 2000000, direct 5wd 2000000",
        "0/0 0/1 1/0 0/1 1/0 0/1 1/0 1/0",
        "101/2020/TT-BTC 105/2021/NĐ-CP 13/2022/TT-BNNPTNT 12/2020/TT-BNNPTNT",
        "KQ.G10.000272",
    ),
    "2.000690": (
        "postal 30wd 0, direct 30wd 0",
        "1/0 1/0 1/0 1/0 1/0",
        "32/2024/QH15 50/2025/TT-NHNN",
        "KQ.G19.000442 KQ.G19.000071",
    ),
    "1.004117": (
        "online 7wd 0, postal 7wd 0, direct 7wd 0",
        "1/0 0/1 0/1",
        "20/2008/QH12 146/2025/QH15 43/2026/NĐ-CP 59/2017/NĐ-CP",
        "KQ.G10.001418",
    ),
    "1.007844": (
        "online 1 20",
        "0/0 0/0 0/0",
        "08/2015/NĐ-CP 38/2015/TT-BTC 54/2014/QH13 172/2010/TT-BTC 27/2007/NĐ-CP 51/2005/QH11",
        "KQ.G12.001272",
    ),
    "1.012057": (
        "online 32wd 0, postal 32wd 0, direct 32d 0",
        "1/0 1/0",
        "33/2026/NĐ-CP 79/2023/NĐ-CP",
        "KQ.G10.000424",
    ),
    "1.003563": (
        "direct 1wd -",
        "1/1 1/1",
        "02/2026/TT-BNNMT 18/2017/QH14 146/2025/QH15",
        "KQ.G10.000145",
    ),
    "2.001041": (
        "postal 30d 0, direct 30d 0",
        "1/1 1/1 1/1 1/1 1/1 1/1",
        "17/2021/TT-BXD 13/2012/QH13 35/2023/NĐ-CP 11/2020/TT-BTP",
        "KQ.G17.000150",
    ),
    "1.000886": (
        "direct 115d 3700000",
        "1/0 1/0 1/0",
        "82/2015/QH13 41/2016/NĐ-CP 44/2026/NĐ-CP 66.19/2026/NQ-CP",
        "KQ.G10.001197 KQ.G10.001206",
    ),
    "1.000661": (
        "online 10d 0, postal 10d 0, direct 10d 0",
        "1/0 1/0 1/0",
        "14/2026/TT-NHNN 32/2024/QH15 56/2025/TT-NHNN",
        "KQ.G19.000121",
    ),
    "1.007631": (
        "postal 15d 1200000, online 15d 1200000, direct 15d 1200000",
        "2/0 0/0 1/0 0/1 0/1 1/0 1/0 0/1",
        "67/2011/QH12",
        "KQ.G12.000067",
    ),
    "1.013065": (
        "online 8h 0",
        "1/0 1/0",
        "13/2025/TT-BCA 36/2024/QH15 79/2024/TT-BCA",
        "KQ.G01.000008",
    ),
    "5.003803": (
        "direct 5d -, online 5d -, postal 5d -",
        "",
        "08/2021/NĐ-CP 33/2013/NĐ-CP",
        "KQ.G04.000388",
    ),
    "2.001604": (
        "online 7wd 0, postal 7wd 0, direct 7wd 0",
        "0/1 1/1 1/0 1/1",
        "15/2018/NĐ-CP 97/2015/QH13",
        "KQ-G10-KQ-000002",
    ),
    "2.001037": (
        "online 5wd 0, postal 5wd 0, direct 5wd 0",
        "1/0 1/0",
        "81/2014/TT-BGTVT 61/2014/QH13 66/2006/QH11",
        "KQ.G04.000290",
    ),
    "1.000586": (
        "online 20wd 0, postal 20wd 0, direct 20wd 0",
        "1/0 1/0 1/0",
        "24/2012/NĐ-CP 232/2025/NĐ-CP 34/2025/TT-NHNN 24/2026/NQ-CP",
        "KQ.G19.000331 G19-KQ006099",
    ),
    "1.013992": (
        "online 7wd -, postal 7wd -, direct 7wd -",
        "0/1 0/1 0/1 1/0",
        "31/2024/QH15 151/2025/NĐ-CP 118/2025/NĐ-C 101/2024/NĐ-CP 226/2025/NĐ-CP",
        "KQ.G10.001147",
    ),
    "1.000086": (
        "direct 1 0",
        "1/0 1/0",
        "54/2014/QH13 38/2015/TT-BTC 08/2015/NĐ-CP 187/2013/NĐ-CP 191/2015/TT-BTC",
        "KQ.G12.000355",
    ),
    "1.115126": (
        "direct 3wd -, postal 3wd -, postal 3d -",
        "1/0 1/0 1/0 1/0 1/0 1/0",
        "59/2020/QH14",
        "-",
    ),
    "1.003537": (
        "direct 17d 1350000, online 17d 1350000, postal 17d 1350000",
        "0/0 1/0 0/1 1/0 1/0 1/0 1/0 1/0 1/0 1/0",
        "101/2020/TT-BTC 79/2015/QH13 123/2018/NĐ-CP 101/2020/TT-BTC",
        "KQ.G10.000225",
    ),
    "1.002554": (
        "online 4wd 0, postal 4wd 0, direct 4wd 0",
        "1/0",
        "01/2026/TT-BNNMT 146/2025/QH15 79/2015/QH13",
        "KQ.G10.000492",
    ),
    "1.000014": (
        "online 1 20, direct 1 20",
        "0/0 1/0 2/0 0/1 0/1 0/1",
        "08/2015/NĐ-CP 54/2014/QH13 38/2015/TT-BTC 172/2010/TT-BTC 69/2016/TT-BTC",
        "",
    ),
    "1.007689": (
        "online - 0, postal - 0, direct - 0",
        "1/1 1/0",
        "19/2021/TT-BTC 118/2025/NĐ-CP 68/2026/NĐ-CP 46/2024/TT-BTC 108/2025/QH15 "
        "50/2026/TT-BTC 141/2026/NĐ-CP",
        "KQ.G12.000429",
    ),
    "1.009825": (
        "direct - -, online - -, postal - -",
        "1/0",
        "118/2025/NĐ-CP 46/2024/TT-BTC 19/2021/TT-BTC 68/2026/NĐ-CP 18/2026/TT-BTC",
        "KQ.G12.01128",
    ),
    "3.000042": (
        "postal 30d 0, direct 30d 0",
        "0/1 1/0 1/0 1/0 1/0 1/0 1/0 0/1 1/0 1/0 1/0 1/0 1/0 1/0 1/0 1/0 1/0 1/0 0/1",
        "92/2018/NĐ-CP",
        "KQ.G12.000693",
    ),
    "1.001651": (
        "online 10d 0, postal 10d 0, direct 10d 0",
        "1/0 1/0 1/0",
        "73/2025/TT-NHNN 32/2024/QH15",
        "KQ.G19.000515 KQ.G19.000516",
    ),
    "1.003358": (
        "online 5wd -, postal 5wd -, direct 5wd -, online 5wd -, online 5wd -, postal 5wd -, "
        "postal 5wd -, direct 5wd -, direct 5wd -",
        "2/0 1/1 1/0 0/0 1/0 1/0",
        "23/2023/QH15 04/2015/TT-BCA 31/2015/TT-BCA 47/2014/QH13 22/2023/TT-BCA "
        "25/2021/TT-BTC 51/2019/QH14",
        "KQ.G01.000091",
    ),
    "1.000811": (
        "online 21d 1200000, postal 21wd 0, direct 21d 1200000",
        "1/0 1/0 1/0 1/0 1/0",
        "25/2021/TT-BTC 49/2019/QH14 09/2023/QĐ-TTg",
        "KQ.G01.000084",
    ),
    "2.002799": (
        "online 10d 0, postal 10d 0, direct 10d 0",
        "1/0 1/0 1/0 1/0",
        "05/2024/UBTVQH15 204/2025/NĐ-CP",
        "KQ.G12.001088",
    ),
    "1.000823": (
        "postal 22wd 0, direct 22wd 0",
        "1/0 1/0 1/0",
        "121/2021/NĐ-CP 24/2026/NQ-CP",
        "KQ.G19.000181 G19-KQ0060102",
    ),
    "3.000141": (
        "online 8h 0",
        "1/1",
        "42/2020/TT-BTC",
        "KQ.G12.000378",
    ),
}

# Set (b), the .doc exports (10 records drawn at random).
DOC_EXPORT = {
    "1.013589": (
        "online 1h 0, online 1h 0",
        "1/0 1/0",
        "15/2019/QĐ-TTg 31/2025/QĐ-TTg",
    ),
    "1.013201": (
        "direct 4wd -, online 4wd -, postal 4wd -",
        "1/0 1/0",
        "86/2015/QH13 211/2025/NĐ-CP",
    ),
    "1.014562": (
        "direct 1d 0, direct 1h 0, online 1d 0",
        "1/0 1/0 1/0",
        "47/2014/QH13 58/2017/NĐ-CP 77/2017/NĐ-CP 51/2019/QH14 23/2023/QH15 25/2023/QH15 "
        "66/2020/QH14 213/2025/NĐ-CP 38/2025/QĐ-TTg",
    ),
    "1.013520": (
        "direct 90d -, postal 90d -",
        "1/1",
        "25/2018/QH14 5166/QĐ-BQP",
    ),
    "2.002767": (
        "direct 1d 0, online 1d 0, postal 1d 0",
        "0/1 1/0",
        "33/2003/QĐ-BQP 139/2011/TT-BQP 103/2025/TT-BQP",
    ),
    "1.013627": (
        "direct 5d 0, postal 5d 0",
        "1/0",
        "16/2024/NĐ-CP",
    ),
    "1.013617": (
        "direct 20d 0, postal 20d 0",
        "0/0 1/0 1/1 0/0 1/0 0/1 1/0 0/0 1/0 0/1 1/0 0/0 0/1 1/0",
        "16/2024/NĐ-CP",
    ),
    "1.013565": (
        "direct 0h -",
        "1/0 1/0 1/1",
        "138/2016/TT-BTC 77/2017/NĐ-CP",
    ),
    "1.013131": (
        "direct 7d 0, direct 14d 0, online 7d 0, online 14d 0, postal 7d 0, postal 14h 0",
        "1/0 0/1 0/1 0/1",
        "67/2024/TT-BQP 130/2025/TT-BQP",
    ),
    "1.013549": (
        "direct 90d -, postal 90d -",
        "1/0",
        "25/2018/QH14 5166/QĐ-BQP",
    ),
}

# Set (c), the 2021 csdl export, by MongoDB id (10 records drawn at random): channels, dossier.
CSDL = {
    "612362a18d18c024c839e860": ("direct - -", "1/0"),
    "612362868d18c024c839e7e2": (
        "direct 60wd 200000, online 60wd 200000, postal 60wd 200000",
        "1/0 0/1 1/0 0/1 1/0 0/1 0/1 0/1 1/0 0/1 0/1 1/0",
    ),
    "6123629d8d18c024c839e84a": ("postal 5wd -", "1/0 1/0 1/0 2/0 0/1"),
    "612362918d18c024c839e810": ("direct 10wd -, online 10wd -, postal 10wd -", "1/0 1/0 1/0 1/0"),
    "612362838d18c024c839e7d6": ("direct - -, online - -, postal - 0", "1/0 1/0 1/0 1/0 0/0"),
    "612362818d18c024c839e7ce": ("direct 7wd -, online 7wd -", "1/0 1/0"),
    "6123628a8d18c024c839e7f2": ("online 20wd -", "0/1 0/1 0/1 0/1"),
    "612362a58d18c024c839e876": ("direct - -", "1/0"),
    "612362a28d18c024c839e864": ("direct 2wd -", "1/0"),
    "6123629c8d18c024c839e846": ("postal 20wd -", "1/0 2/0"),
}


def _channels(record):
    return ", ".join(
        f"{c['kind']} "
        f"{'-' if c['time_limit_value'] is None else c['time_limit_value']}"
        f"{UNITS[c['time_limit_unit']]} "
        f"{'-' if c['fee_amount'] is None else c['fee_amount']}"
        for c in record["channels"]
    )


def _dossier(record):
    return " ".join(f"{item['originals']}/{item['copies']}" for item in record["dossier"])


def _structure(record):
    return (
        _channels(record),
        _dossier(record),
        " ".join(basis["number"] for basis in record["legal_bases"]),
        " ".join(result["code"] or "-" for result in record["results"]),
    )


def _read(module, document, path):
    items = list(module.read(document, path, agencies.Resolver()))
    assert all(item.error is None for item in items), [item.error for item in items]
    return items


@pytest.mark.parametrize("code", sorted(PORTAL))
def test_portal_page_structure(portal_pages, code):
    (path,) = portal_pages.glob(f"*/{code}.json")
    (item,) = _read(portal_json, json.loads(path.read_text(encoding="utf-8")), path)
    assert item.record["code"] == code
    assert _structure(item.record) == PORTAL[code]


@pytest.mark.parametrize("code", sorted(DOC_EXPORT))
def test_doc_export_structure(real_data, code):
    path = real_data / "nhdandz_ThuTucHanhChinh" / "extracted_fixed" / f"{code}.json"
    (item,) = _read(doc_export, json.loads(path.read_text(encoding="utf-8")), path)
    assert item.record["code"] == code
    assert _structure(item.record)[:3] == DOC_EXPORT[code]


@pytest.fixture(scope="module")
def csdl_records(real_data):
    path = real_data / "dichvucong_7sins" / "data.json"
    items = _read(csdl2021, json.loads(path.read_text(encoding="utf-8")), Path(path))
    return {item.label: item.record for item in items}


@pytest.mark.parametrize("oid", sorted(CSDL))
def test_csdl_export_structure(csdl_records, oid):
    record = csdl_records[oid]
    assert record["code"] == f"CSDL-{oid}"
    assert record["status"] == "draft"
    assert (_channels(record), _dossier(record)) == CSDL[oid]
