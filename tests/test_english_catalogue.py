"""The English catalogue covers the interface as the code is now: every string the source marks
for translation (extracted here, as `make messages` does, with babel.cfg) has a reviewed English
translation with the same placeholders, and the catalogue keeps no string the code dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The Makefile's `pybabel extract -k _l`: Babel's keywords and Flask-Babel's lazy_gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}


def extract(root: Path) -> Catalog:
    """The strings marked for translation under `root`, found through babel.cfg."""
    with (root / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(locale="en")
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(filename, lineno)], context=context)
    return catalog


@pytest.fixture(scope="module")
def source() -> Catalog:
    return extract(ROOT)


@pytest.fixture(scope="module")
def english() -> Catalog:
    with ENGLISH.open("rb") as po:
        return read_po(po, locale="en")


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_the_extraction_finds_the_interface(source: Catalog):
    ids = {_key(m) for m in source if m.id}
    # One string from each kind of source: a template, a service, a form, the CLI, a plural.
    for known in (
        "Không tìm thấy trang",
        "Không tìm thấy thủ tục có mã “%(code)s”.",
        "Tên đăng nhập",
        "Cần đúng một trong hai tùy chọn --agency hoặc --field.",
        "%(n)s ngày làm việc",
    ):
        assert known in ids
    assert len(ids) > 600


def untranslated(source: Catalog, english: Catalog) -> list[str]:
    """What the English catalogue lacks for the strings of `source`."""
    problems = []
    for message in source:
        if not message.id:
            continue
        translated = english.get(message.id, message.context)
        if translated is None:
            problems.append(f"missing: {_key(message)!r} ({message.locations[0][0]})")
        elif translated.fuzzy or not all(_strings(translated)):
            problems.append(f"untranslated or fuzzy: {_key(message)!r}")
        elif message.pluralizable != translated.pluralizable:
            problems.append(f"singular/plural differs from the source: {_key(message)!r}")
    return problems


def broken_placeholders(english: Catalog) -> list[str]:
    """Babel's own checks: the python-format placeholders of each translation (names and
    types) are the msgid's, and a plural entry has the language's number of forms."""
    return [f"{_key(m)!r}: {'; '.join(map(str, errors))}" for m, errors in english.check()]


def test_every_interface_string_has_its_english_translation(source: Catalog, english: Catalog):
    problems = untranslated(source, english)
    assert not problems, "run `make messages` and translate:\n" + "\n".join(problems)


def test_the_catalogue_keeps_no_string_the_code_dropped(source: Catalog, english: Catalog):
    stale = [_key(m) for m in english if m.id and source.get(m.id, m.context) is None]
    assert not stale, "run `make messages` (it drops them):\n" + "\n".join(stale)


def test_translations_keep_the_placeholders(english: Catalog):
    problems = broken_placeholders(english)
    assert not problems, "\n".join(problems)
    assert english.num_plurals == 2
    assert english.get(("%(n)s ngày làm việc", "%(n)s ngày làm việc")).string == (
        "%(n)s working day",
        "%(n)s working days",
    )


def test_the_checks_report_a_new_a_fuzzy_and_a_broken_string(tmp_path: Path):
    """A string added to the code, a translation left fuzzy by `pybabel update` and one that
    renamed its placeholder are each reported."""
    (tmp_path / "babel.cfg").write_text((ROOT / "babel.cfg").read_text())
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "new.py").write_text(
        '"""A new module."""\n\nfrom flask_babel import gettext as _\n\n'
        'NEW = _("Một chuỗi mới chưa dịch.")\n'
        'FUZZY = _("Tên đăng nhập")\n'
        'BROKEN = _("Không tìm thấy thủ tục có mã “%(code)s”.", code="x")\n'
    )
    source = extract(tmp_path)
    english = Catalog(locale="en")
    english.add("Tên đăng nhập", "Username", flags=["fuzzy"])
    english.add(
        "Không tìm thấy thủ tục có mã “%(code)s”.",
        "No procedure with the code “%(name)s” was found.",
        flags=["python-format"],
    )
    assert untranslated(source, english) == [
        "missing: 'Một chuỗi mới chưa dịch.' (services/new.py)",
        "untranslated or fuzzy: 'Tên đăng nhập'",
    ]
    assert len(broken_placeholders(english)) == 1
