"""Canonical agencies: the portal's many spellings of an office resolved to one agency, placed
in a hierarchy (ministry → its departments, province → its Sở, commune level), and the
locality's mapping of generic agencies to its own.

The national portal names agencies as free text, several to a field and joined by commas that
also occur inside names ("Cục Thuế - Bộ tài chính, Thuế tỉnh, thành phố, Thuế cơ sở"). The
resolver splits such text, looks each name up in the table of known agencies (agencies.toml)
and, for a name the table does not know, makes an agency record whose kind and parent are
guessed from the name. Nothing here touches the database: the import run creates the records.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..catalogue import records
from ..catalogue.records import Record
from ..errors import ValidationError
from ..models import AgencyKind, Role
from ..text import clean, fold, slugify
from . import parsing

TABLE = Path(__file__).with_name("agencies.toml")

_EXPANSIONS = (
    (re.compile(r"_old$"), ""),
    (re.compile(r"\bubnd\b"), "uy ban nhan dan"),
    (re.compile(r"\bnn\s*(?:va|&)\s*mt\b"), "nong nghiep va moi truong"),
    (re.compile(r"\btp\.?\s*hcm\b"), "thanh pho ho chi minh"),
    (re.compile(r"\btp\.\s*"), "thanh pho "),
    (re.compile(r"\bvn\b"), "viet nam"),
    (re.compile(r"^(?:chu tich|giam doc|lanh dao) (?=uy ban nhan dan|so )"), ""),
    (re.compile(r"\s*-\s*"), " - "),
    (re.compile(r"\s+"), " "),
)


def key(name: str) -> str:
    """The form in which two spellings of one agency compare equal: no diacritics or case,
    abbreviations expanded, no trailing punctuation."""
    folded = fold(name).strip(" .;,")
    for pattern, replacement in _EXPANSIONS:
        folded = pattern.sub(replacement, folded)
    return folded.strip(" .;,")


class Table:
    """The known agencies (agencies.toml) as canonical records, indexed by spelling."""

    def __init__(self, data: dict[str, dict[str, Any]]) -> None:
        self.records: dict[str, Record] = {}
        self.index: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        for position, (slug, entry) in enumerate(data.items()):
            fields = {k: v for k, v in entry.items() if k not in ("aliases", "codes")}
            record = records.normalize_agency(
                {"slug": slug, "position": position, **fields}, f"agencies.toml:{slug}"
            )
            self.records[slug] = record
            for name in [record["name"], *entry.get("aliases", [])]:
                self.index[key(name)] = slug
            for code in entry.get("codes", []):
                self.codes[code] = slug


@cache
def table() -> Table:
    """The table of known agencies, read once."""
    with TABLE.open("rb") as stream:
        return Table(tomllib.load(stream))


def ministry_of(decision_number: str) -> str | None:
    """The slug of the ministry whose code a decision number carries ("163/QĐ-BTP" → Bộ Tư
    pháp), or None."""
    match = re.search(r"QĐ-([A-Za-zĐ0-9]+)", decision_number or "")
    return table().codes.get(match.group(1)) if match else None


# --- splitting a field into names ----------------------------------------------------------------

# " - Bộ tài chính", "/Tổng cục Chính trị", " - tỉnh An Giang": the agency above, written after.
_SUFFIX = re.compile(
    r"\s*(?:\s-|-\s|/)\s*(?=(?:Bộ|Tổng cục|Cục|Ban Cơ yếu|Quân chủng|tỉnh|thành phố|TP)\b)",
    re.IGNORECASE,
)
_PROVINCE_WORDS = r"(?i:tỉnh|thành phố|tp\.?)\s*[A-ZĐ]"
_PROVINCE = re.compile(rf"\s(?:-\s*)?({_PROVINCE_WORDS}.*)$")
_OFFICE_OF = re.compile(r"^(?:Văn phòng|Bộ phận một cửa)\s+(.+)$", re.IGNORECASE)
_NOT_MINISTRY = (
    "bo phan", "bo chi huy", "bo tu lenh", "bo tham muu", "bo tong tham muu", "bo doi", "bo truong",
)  # fmt: skip
_DEPARTMENT = (
    "cuc ", "vu ", "tong cuc", "ban ", "thanh tra", "phong ", "quan chung", "bo tu lenh",
    "bo tham muu", "bo tong tham muu", "bo chi huy", "so ",
)  # fmt: skip
_BRANCH = (
    "chi cuc", "chi nhanh", "doi ", "tram ", "trung tam", "cang vu", "hai quan", "kho bac",
    "cong an", "bao hiem xa hoi", "ngan hang nha nuoc",
)  # fmt: skip


def _base(name: str) -> tuple[str, str]:
    """A name and the parent written after it ("Cục Hải quan - Bộ tài chính" → both parts)."""
    match = _SUFFIX.search(name)
    if not match or match.start() == 0:
        return name, ""
    return name[: match.start()], name[match.end() :]


def _known(name: str) -> bool:
    index = table().index
    base, above = _base(name)
    return key(name) in index or ("," not in above and key(base) in index)


@cache
def split(raw: str) -> tuple[str, ...]:
    """The agency names in a field: one per line, and on a line separated by commas, except
    where the comma is inside a name ("Thuế tỉnh, thành phố": what follows starts small, sits
    in parentheses, or the joined text is a known name)."""
    names: list[str] = []
    for line in parsing.prepare(raw).split("\n"):
        tokens = line.split(",")
        i = 0
        while i < len(tokens):
            end = next(
                (j for j in range(len(tokens), i + 1, -1) if _known(",".join(tokens[i:j]))),
                i + 1,
            )
            name = ",".join(tokens[i:end])
            while end < len(tokens) and (
                name.count("(") > name.count(")") or tokens[end].strip()[:1].islower()
            ):
                name += "," + tokens[end]
                end += 1
            i = end
            name = parsing.value(name).strip(" .;,")
            if name:
                names.append(name)
    return tuple(names)


# --- resolving names to agencies -----------------------------------------------------------------


def _kind(folded: str) -> AgencyKind:
    if folded.startswith("bo ") and not folded.startswith(_NOT_MINISTRY):
        return AgencyKind.MINISTRY
    if folded.startswith("uy ban nhan dan"):
        return AgencyKind.COMMUNE if re.search(r"\bxa\b", folded) else AgencyKind.PEOPLE_COMMITTEE
    if folded.startswith("van phong"):
        return AgencyKind.OFFICE
    if folded.startswith(_BRANCH):
        return AgencyKind.BRANCH
    if folded.startswith(_DEPARTMENT):
        return AgencyKind.DEPARTMENT
    return AgencyKind.OTHER


_CENTRAL = ("cuc ", "vu ", "tong cuc ", "chi cuc ", "thanh tra ")


def _guess_parent(folded: str, context: str | None) -> str | None:
    """The agency above one the table does not know: the generic people's committee its level
    words name, else for a central department the ministry that published the procedure."""
    if re.search(r"\bcap xa\b", folded):
        return "uy-ban-nhan-dan-cap-xa"
    if re.search(r"\bcap huyen\b", folded) or (folded.startswith("phong ") and not context):
        # District offices (Phòng Tư pháp ...) come from exports without a ministry.
        return "uy-ban-nhan-dan-cap-huyen"
    if re.search(r"\bcap tinh\b|\btinh, thanh pho\b|^so ", folded):
        return "uy-ban-nhan-dan-cap-tinh"
    return context if folded.startswith(_CENTRAL) else None


def _slug(folded: str) -> str:
    slug = slugify(folded) or "co-quan"
    if len(slug) <= 80:
        return slug
    digest = hashlib.sha1(slug.encode()).hexdigest()[:8]
    return f"{slug[:70].rstrip('-')}-{digest}"


_NOT_AGENCY = ("doi voi", "moi ", "truong hop", "neu ")


def _looks_like_agency(name: str) -> bool:
    """Page text that ran into the field ("* Ghi đầy đủ lời chứng...", "Hợp tác xãCơ quan có
    thẩm quyền...") is not an agency."""
    if not name or not name[0].isupper() or len(name) > 250:
        return False
    glued = any(a.islower() and b.isupper() for a, b in itertools.pairwise(name))
    return not glued and not fold(name).startswith(_NOT_AGENCY)


class Resolver:
    """Resolves agency text to canonical agency slugs, remembering the agencies it made up, and
    applies the locality's mapping (canonical slug → the locality's own agency slug)."""

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        self.table = table()
        self.mapping = mapping or {}
        self.derived: dict[str, Record] = {}

    def record(self, slug: str) -> Record | None:
        """The canonical record of a known or made-up agency."""
        return self.table.records.get(slug) or self.derived.get(slug)

    def resolve(self, name: str, context: str | None = None) -> str | None:
        """The canonical slug for one agency name, or None when the text is not an agency.
        `context` is the slug of the ministry that published the procedure, the parent of
        central departments the table does not know."""
        name = clean(name).strip(" .;,")
        if not _looks_like_agency(name):
            return None
        folded = key(name)
        if folded in self.table.index:
            return self.table.index[folded]
        base, above = _base(name)
        if above and key(base) in self.table.index:
            return self.table.index[key(base)]
        office = _OFFICE_OF.match(name)
        if not above and office and key(office.group(1)) in self.table.index:
            # "Văn phòng Sở Tư pháp": the office of a known agency hangs under it.
            above = office.group(1)
        if above and _PROVINCE.match(f" {above}"):
            parent = self._province(above)
        else:
            parent = self.resolve(above, context) if above else None
        folded_base = key(base)
        kind = _kind(folded_base)
        province = _PROVINCE.search(base)
        if parent is None and province and kind != AgencyKind.BRANCH:
            parent = self._province(province.group(1))
        if parent is None and kind not in (
            AgencyKind.MINISTRY,
            AgencyKind.PEOPLE_COMMITTEE,
            AgencyKind.COMMUNE,
        ):
            parent = _guess_parent(folded_base, context)
        slug = _slug(folded_base)
        if slug not in self.derived and slug not in self.table.records:
            self.derived[slug] = records.normalize_agency(
                {"slug": slug, "name": base, "kind": kind, "parent": parent}
            )
        return slug

    def _province(self, province: str) -> str:
        """The people's committee of a named province ("Thành phố Hà Nội")."""
        words = re.sub(r"^(?:TP\.?\s*HCM|TP\.?\s*Hồ Chí Minh)$", "Thành phố Hồ Chí Minh", province)
        words = re.sub(r"^TP\.?\s*", "Thành phố ", words)
        name = f"Ủy ban nhân dân {clean(words)}"
        slug = _slug(key(name))
        if slug not in self.derived:
            self.derived[slug] = records.normalize_agency(
                {"slug": slug, "name": name, "kind": AgencyKind.PEOPLE_COMMITTEE}
            )
        return slug

    def local(self, slug: str | None) -> str | None:
        """The slug procedures link to: the locality's own agency when the map names one."""
        return self.mapping.get(slug, slug)

    def links(self, raw: object, role: Role, context: str | None = None) -> list[Record]:
        """Agency links of one role from a raw field: the name as published, the agency."""
        links = []
        for name in split(parsing.prepare(raw)):
            slug = self.resolve(name, context)
            links.append({"role": role, "agency": self.local(slug) if slug else None, "name": name})
        return links

    def needed(self, links: list[Record]) -> list[Record]:
        """The agency records the links need, parents first; agencies the locality maps to its
        own are left out (children of them hang under the locality's agency)."""
        out: dict[str, Record] = {}
        local = set(self.mapping.values())

        def add(slug: str | None) -> None:
            if not slug or slug in out or slug in local or slug in self.mapping:
                return
            record = self.record(slug)
            if record is None:
                return
            add(record["parent"])
            out[slug] = {**record, "parent": self.local(record["parent"])}

        for link in links:
            add(link["agency"])
        return list(out.values())


# --- the locality's mapping file -----------------------------------------------------------------


def read_mapping(path: Path) -> dict[str, str]:
    """Read a mapping file: TOML with an [agencies] table whose keys are canonical agency slugs
    or agency names as the portal writes them, and whose values are slugs of the locality's
    own agencies. Raises ValidationError naming the problem."""
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValidationError(
            _("Không đọc được tệp ánh xạ %(p)s: %(e)s", p=path, e=error)
        ) from None
    entries = data.get("agencies")
    if not isinstance(entries, dict):
        raise ValidationError(_("Tệp ánh xạ %(p)s thiếu bảng [agencies].", p=path))
    resolver = Resolver()
    mapping: dict[str, str] = {}
    for name, target in entries.items():
        if not isinstance(target, str) or not records.SLUG_PATTERN.match(target):
            raise ValidationError(
                _("Tệp ánh xạ %(p)s: “%(n)s” phải trỏ tới slug một cơ quan.", p=path, n=name)
            )
        slug = name if records.SLUG_PATTERN.match(name) else resolver.resolve(name)
        if not slug:
            raise ValidationError(
                _("Tệp ánh xạ %(p)s: “%(n)s” không phải cơ quan.", p=path, n=name)
            )
        mapping[slug] = target
    return mapping
