"""The dossier: "Thành phần hồ sơ", the papers a procedure asks for and their counts.

`portal_dossier` reads the portal's tables run together (name, form file names and count cells
in one text, one table per group of papers); `split_template` cuts the form file names off a
paper's name; `counts` reads the originals and copies the other sets give in a cell of their own.
"""

from __future__ import annotations

import re

from ..catalogue.records import Record
from ..text import clean, fold
from .parsing import LOWER, prepare

DOSSIER_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
# The count cell: one digit (a year or form number may be glued before it), "bản chính", and
# optionally the copies; not followed by a word (then it is part of a name: "nộp 02 bản chính tờ").
# A zero-padded count after a space ("nộp 02 bản chính.") is part of a name: the count cell is not.
_COUNT = re.compile(r"(?<![\s(]0)(\d) ?bản chính(?:\s*,\s*(\d) ?bản sao)?(?! [^\W\d_])")
_FILE = re.compile(rf"\.(?i:docx?|pdf|xlsx?|rtf|odt|zip|rar|jpe?g|png)(?![{LOWER}])")
_GLUE = ';.)”"'


def _is_boundary(text: str, i: int, *, strong: bool) -> bool:
    """Whether a file name may start at `i`: glued after punctuation ("...CP).Mẫu 01.docx") or,
    weaker, a capital glued after a small letter or digit ("theo mẫuMẫu TK01.docx")."""
    here, before = text[i], text[i - 1]
    if strong:
        return (
            (before in _GLUE and here.isalpha())
            or (before in ");" and here.isdigit())
            or (before == ":" and not here.isspace())
        )
    return (here.isupper() and (before.islower() or before.isdigit())) or (
        here.isdigit() and before.islower()
    )


def _template_start(text: str, end: int) -> int:
    """Where the form file name ending at `end` begins, or -1 when no boundary shows it."""
    for strong in (True, False):
        for i in range(end - 5, max(0, end - 120), -1):
            if _is_boundary(text, i, strong=strong):
                return i
    return -1


def split_template(text: str) -> tuple[str, str]:
    """Split "name + form file names" ("Tờ khai theo mẫuMẫu TK01.docx") into the name and the
    file names, joined by "; "."""
    matches = list(_FILE.finditer(text))
    if not matches or matches[-1].end() != len(text):
        return text, ""
    # File names may follow one another ("A.docxB.docx"): walk back over the chain.
    chain = [matches[-1]]
    for previous in reversed(matches[:-1]):
        between = text[previous.end() : chain[0].start()]
        if len(between) > 80 or any(
            _is_boundary(text, i, strong=True) for i in range(previous.end() + 1, chain[0].start())
        ):
            break
        chain.insert(0, previous)
    start = _template_start(text, chain[0].end())
    if start <= 0:
        return text, ""
    files, begin = [], start
    for match in chain:
        files.append(clean(text[begin : match.end()]))
        begin = match.end()
    return clean(text[:start]), "; ".join(f for f in files if f)


def _heading(text: str) -> str:
    """A dossier group heading without its bullets and trailing colon; "--" means none."""
    heading = clean(text).strip(" -*+:•")
    return "" if not heading or set(heading) <= {"-"} else heading


def portal_dossier(raw: object) -> list[Record]:
    """The "Thành phần hồ sơ" tables of the portal's page: each table's heading is the group
    of the items under it."""
    text = prepare(raw)
    if DOSSIER_HEADER not in text:
        return []
    sections = text.split(DOSSIER_HEADER)
    group = _heading(sections[0])
    items: list[Record] = []
    for i, section in enumerate(sections[1:], start=1):
        last = 0
        for count in _COUNT.finditer(section):
            name, template = split_template(clean(section[last : count.start()]))
            last = count.end()
            if not name:
                continue
            items.append(
                {
                    "group": group,
                    "name": name,
                    "originals": int(count.group(1)),
                    "copies": int(count.group(2) or 0),
                    "template_name": template,
                }
            )
        tail = section[last:]
        if i + 1 < len(sections):
            group = _heading(tail)
        elif clean(tail).strip(" -"):
            items.append({"group": group, "name": clean(tail), "originals": 0, "copies": 0})
    return items


def counts(raw: object) -> tuple[int, int]:
    """Originals and copies from "Bản chính: 1\\nBản sao: 0" or "Bản chính: 1 - Bản sao: 0"."""
    folded = fold(prepare(raw))
    originals = re.search(r"ban chinh\s*:?\s*(\d+)", folded)
    copies = re.search(r"ban sao\s*:?\s*(\d+)", folded)
    return (int(originals.group(1)) if originals else 0, int(copies.group(1)) if copies else 0)
