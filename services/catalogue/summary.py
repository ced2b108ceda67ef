"""The practical facts of a procedure, for the box at the top of its page and sheet: how long it
takes, what it costs, where to submit (with a map link and opening hours), whether it can be done
online, and what you receive.

Channels often repeat one time limit or fee; equal values are shown once, with the channels they
apply to when the channels differ. Long published texts are cut at a word: the full text is in
the sections below the box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..labels import label, money, time_limit
from ..models import Agency, Procedure, Role
from ..text import fold

# What the box shows of a long text; the page's sections below give the whole of it.
SHORT = 64
MAP_SEARCH = "https://www.openstreetmap.org/search"


@dataclass
class Fact:
    """One value and the channels it applies to (empty when it applies to all)."""

    text: str
    channels: list[str] = field(default_factory=list)


@dataclass
class Summary:
    time_limits: list[Fact]
    fees: list[Fact]
    place: str
    address: str
    map_url: str
    hours: str
    online_level: str | None
    online_url: str
    results: list[str]


def shorten(text: str, limit: int = SHORT) -> str:
    """`text` on one line, cut at the last word boundary before `limit` characters, with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(" ,;:.") + "…"


def map_url(address: str) -> str:
    """An OpenStreetMap search for `address` (a plain link: no script, no embedded map)."""
    return f"{MAP_SEARCH}?{urlencode({'query': ' '.join(address.split())})}"


def local_address(address: str, locality: str) -> str:
    """`address` without the portal's own locality at its end ("..., thị trấn Đông Hưng" for
    "..., thị trấn Đông Hưng, huyện Đông Hưng, tỉnh Thái Bình" on the Đông Hưng portal)."""
    address = " ".join(address.split())
    head, tail = address[: -len(locality) or None], address[-len(locality) :]
    if locality and fold(tail) == fold(locality) and head.rstrip().endswith(","):
        return head.rstrip().rstrip(",")
    return address


def _grouped(values: list[tuple[str, str]]) -> list[Fact]:
    """(value, channel) pairs as facts, equal values once, in the order they first appear."""
    facts: dict[str, Fact] = {}
    for text, channel in values:
        if text:
            facts.setdefault(text, Fact(text)).channels.append(channel)
    out = list(facts.values())
    if len(out) == 1 and len(out[0].channels) == len(values):
        out[0].channels = []  # the same for every channel: no need to name them
    return out


def _time_text(channel) -> str:
    structured = time_limit(channel.time_limit_value, channel.time_limit_unit)
    return structured or shorten(channel.time_limit_text)


def _fee_text(channel) -> str:
    # The amount when it is known ("50.000 đồng"): the published text is in the channel table.
    if channel.fee_amount is not None:
        return money(channel.fee_amount)
    return shorten(channel.fee_text)


def time_limit_facts(channels) -> list[Fact]:
    """The time limits of `channels` (channel rows, or anything with their attributes, such as
    a revision's channel records read by services.catalogue.outdated), equal ones once."""
    return _grouped([(_time_text(c), label(c.kind)) for c in channels])


def fee_facts(channels) -> list[Fact]:
    """The fees of `channels` (as for time_limit_facts), equal ones once."""
    return _grouped([(_fee_text(c), label(c.kind)) for c in channels])


def _implementing(procedure: Procedure) -> list[Agency]:
    return [link.agency for link in procedure.agencies(Role.IMPLEMENTING) if link.agency]


def summarize(procedure: Procedure, locality: str = "") -> Summary:
    """The summary box's facts for `procedure` (loaded with its channels, agencies, results);
    addresses are shown without `locality`, the portal's own (the map link keeps it)."""
    agencies = _implementing(procedure)
    # One agency: its address on a map. Several (each commune's people's committee): the
    # published receiving address says which one, and no single map point is right.
    agency = agencies[0] if len(agencies) == 1 else None
    address = agency.address if agency else ""
    hours = {a.opening_hours for a in agencies if a.opening_hours}
    return Summary(
        time_limits=time_limit_facts(procedure.channels),
        fees=fee_facts(procedure.channels),
        place=agency.name
        if agency
        else shorten(procedure.receiving_address, 100)
        or "; ".join(link.display_name for link in procedure.agencies(Role.IMPLEMENTING)),
        address=local_address(address, locality),
        map_url=map_url(address) if address else "",
        hours=hours.pop() if len(hours) == 1 else "",
        online_level=procedure.online_level,
        online_url=procedure.online_url,
        results=[shorten(result.name) for result in procedure.results],
    )
