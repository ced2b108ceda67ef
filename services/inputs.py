"""Values that come from outside the portal, parsed in one place: integers (in URLs, query
strings, form fields and row names) and redirect targets.

Python's own parsing is too lenient for these: `int()` and `str.isdigit()` take "١٢" and "²"
(the second then fails in `int()`), `int()` takes any length, which overflows the database's
integers, and a redirect to "//host" or "/\\host" leaves the site.
"""

from __future__ import annotations

import re
import unicodedata

from werkzeug.routing import IntegerConverter, ValidationError

# The largest PostgreSQL `integer`, the type of every id and number column: a larger id can name
# nothing, and SQLite refuses anything past 64 bits with an OverflowError.
MAX_ID = 2**31 - 1
# The range of a 64-bit column (sums of money); form validators narrow it further.
MAX_BIG = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}")


def integer(text: str | None, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """`text` as an integer in [minimum, maximum]: ASCII digits with an optional minus sign,
    nothing around them. Raises ValueError otherwise (so it serves as the `type` of
    `request.args.get`, where a ValueError means the default)."""
    if not isinstance(text, str) or not _INTEGER.fullmatch(text):
        raise ValueError(f"not an integer: {text!r}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(f"out of range: {value}")
    return value


def page_number(text: str | None) -> int:
    """A page number from the query string (1 or more); raises ValueError otherwise."""
    return integer(text, minimum=1)


def row_index(text: str) -> int | None:
    """The number of a repeatable row in a form field's name ("steps-3-text"), or None when
    the part is not one."""
    try:
        return integer(text, maximum=100_000)
    except ValueError:
        return None


class IdConverter(IntegerConverter):
    """Werkzeug's `int` converter, bounded: ASCII digits only and at most MAX_ID, so that any
    other value in a URL is simply no match (404) rather than an overflow in the database."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        try:
            integer(value)
        except ValueError as error:
            raise ValidationError() from error
        return super().to_python(value)  # the rule's own min, max and fixed digits


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/staff/…", maybe with a query), else None.

    Only a path that starts with one "/" can have no scheme and no host; "//" and backslashes
    are refused anywhere (browsers read "//host" and "/\\host" as another site), and so are
    control and invisible format characters and spaces (a header cannot carry a new line).
    """
    if not target or not target.startswith("/") or "//" in target or "\\" in target:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in target):
        return None
    return target
