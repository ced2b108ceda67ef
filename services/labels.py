"""Words shown for stored codes (roles, statuses, channel kinds, units), through the
translation layer, and small formatters shared by pages and printed sheets."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import format_decimal, ngettext
from flask_babel import lazy_gettext as _l

from .models import AgencyKind, ChannelKind, OnlineLevel, Role, StaffRole, Status, TimeUnit

LABELS = {
    Role.IMPLEMENTING: _l("Cơ quan thực hiện"),
    Role.COMPETENT: _l("Cơ quan có thẩm quyền"),
    Role.AUTHORIZED: _l("Cơ quan được ủy quyền"),
    Role.COORDINATING: _l("Cơ quan phối hợp"),
    Status.DRAFT: _l("Bản nháp"),
    Status.IN_REVIEW: _l("Chờ duyệt"),
    Status.PUBLISHED: _l("Đang áp dụng"),
    Status.ABOLISHED: _l("Đã bãi bỏ"),
    ChannelKind.DIRECT: _l("Trực tiếp"),
    ChannelKind.ONLINE: _l("Trực tuyến"),
    ChannelKind.POSTAL: _l("Dịch vụ bưu chính"),
    TimeUnit.WORKING_DAYS: _l("ngày làm việc"),
    TimeUnit.DAYS: _l("ngày"),
    TimeUnit.HOURS: _l("giờ"),
    TimeUnit.MONTHS: _l("tháng"),
    OnlineLevel.FULL: _l("Dịch vụ công trực tuyến toàn trình"),
    OnlineLevel.PARTIAL: _l("Dịch vụ công trực tuyến một phần"),
    AgencyKind.PEOPLE_COMMITTEE: _l("Ủy ban nhân dân"),
    AgencyKind.OFFICE: _l("Văn phòng"),
    AgencyKind.DEPARTMENT: _l("Cơ quan chuyên môn"),
    AgencyKind.COMMUNE: _l("UBND cấp xã"),
    AgencyKind.BRANCH: _l("Chi nhánh, đơn vị trực thuộc"),
    AgencyKind.MINISTRY: _l("Bộ, ngành"),
    AgencyKind.OTHER: _l("Cơ quan khác"),
    StaffRole.EDITOR: _l("Biên tập viên"),
    StaffRole.PUBLISHER: _l("Người duyệt, công bố"),
    StaffRole.ADMIN: _l("Quản trị viên"),
}


def label(value: str | None) -> str:
    """The words for a stored code; the code itself when it has none."""
    if value is None:
        return ""
    return str(LABELS.get(value, value))


def money(amount: int | None) -> str:
    """An amount in đồng as people write it ("50.000 đồng"); "Miễn phí" for 0."""
    if amount is None:
        return ""
    if amount == 0:
        return str(_l("Miễn phí"))
    return f"{format_decimal(amount, format='#,##0')} {_l('đồng')}"


# A time limit's phrase by unit, with its plural (English says "1 working day", "15 working
# days"): called with the count that picks the form and the number as written.
_TIME_LIMITS: dict[str, Callable[[int, str], str]] = {
    TimeUnit.WORKING_DAYS: lambda c, n: ngettext(
        "%(n)s ngày làm việc", "%(n)s ngày làm việc", c, n=n
    ),
    TimeUnit.DAYS: lambda c, n: ngettext("%(n)s ngày", "%(n)s ngày", c, n=n),
    TimeUnit.HOURS: lambda c, n: ngettext("%(n)s giờ", "%(n)s giờ", c, n=n),
    TimeUnit.MONTHS: lambda c, n: ngettext("%(n)s tháng", "%(n)s tháng", c, n=n),
}


def time_limit(value: float | None, unit: str | None) -> str:
    """A time limit as a phrase ("15 ngày làm việc"), empty when there is no number."""
    if value is None:
        return ""
    number = format_decimal(value, format="#,##0.#")
    phrase = _TIME_LIMITS.get(unit or "")
    if phrase is None:
        return f"{number} {label(unit)}".strip()
    # A fraction reads as a plural ("0.5 days"); plural rules take whole numbers only.
    count = int(value) if float(value).is_integer() else 2
    return phrase(count, number)
