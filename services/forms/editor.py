"""The procedure editor: every field of a procedure record with its repeatable groups of rows,
the row actions (add, remove, move) done without JavaScript, and the workflow steps' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from ..catalogue.convert import to_date
from ..catalogue.records import CODE_PATTERN
from ..inputs import row_index
from ..models import ChannelKind, OnlineLevel, Role, TimeUnit
from .common import COUNT, WEB_ADDRESS, Integer, Row, StaffForm, enum_choices, max_chars, options

_CODE = Regexp(CODE_PATTERN, message=_l("Mã thủ tục chỉ gồm chữ, số và . - _, ví dụ 1.001193."))


# --- workflow steps -----------------------------------------------------------------------------


class NoteForm(StaffForm):
    """A workflow step on a procedure: the token it was loaded with and a note."""

    version = HiddenField()
    note = StringField(_l("Ghi chú"), validators=[Optional(), max_chars(500)])


class AbolishForm(NoteForm):
    reason = TextAreaField(_l("Lý do bãi bỏ"), validators=[DataRequired(), max_chars(5000)])
    replaced_by = StringField(_l("Mã thủ tục thay thế"), validators=[Optional(), _CODE])


class RestoreForm(NoteForm):
    publish = BooleanField(_l("Công bố ngay"))


# --- the rows of the repeatable groups ----------------------------------------------------------


class StepRow(Row):
    text = TextAreaField(_l("Nội dung bước"), validators=[Optional(), max_chars(20000)])


class AgencyRow(Row):
    role = SelectField(_l("Vai trò"), choices=enum_choices(Role))
    agency = SelectField(_l("Cơ quan trong danh mục"), validate_choice=False)
    name = StringField(_l("Hoặc tên cơ quan"), validators=[Optional(), max_chars(500)])


class ChannelRow(Row):
    kind = SelectField(_l("Hình thức nộp"), choices=enum_choices(ChannelKind))
    time_limit_value = StringField(
        _l("Thời hạn"),
        validators=[
            Optional(),
            Regexp(r"^\d{1,6}(?:[.,]\d{1,3})?$", message=_l("Phải là một số, ví dụ 15 hoặc 0,5.")),
        ],
    )
    time_limit_unit = SelectField(
        _l("Đơn vị"), choices=[SelectChoice("", _l("(không ghi)")), *enum_choices(TimeUnit)]
    )
    time_limit_text = TextAreaField(_l("Thời hạn (nguyên văn)"), validators=[max_chars(5000)])
    fee_text = TextAreaField(_l("Phí, lệ phí"), validators=[max_chars(5000)])
    fee_amount = Integer(
        _l("Số tiền (đồng)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10**12, message=_l("Phải từ %(min)s đến %(max)s.")),
        ],
    )
    note = TextAreaField(_l("Mô tả"), validators=[max_chars(5000)])


class DossierRow(Row):
    group = StringField(_l("Trường hợp"), validators=[Optional(), max_chars(1000)])
    name = TextAreaField(_l("Tên giấy tờ"), validators=[Optional(), max_chars(5000)])
    originals = Integer(_l("Số bản chính"), default=1, validators=[Optional(), COUNT])
    copies = Integer(_l("Số bản sao"), default=0, validators=[Optional(), COUNT])
    required = BooleanField(_l("Bắt buộc"), default=True)
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_chars(5000)])
    template_name = StringField(_l("Tên mẫu đơn, tờ khai"), validators=[Optional(), max_chars(500)])
    template_url = StringField(
        _l("Đường dẫn tải mẫu"), validators=[Optional(), WEB_ADDRESS, max_chars(1000)]
    )
    template_file = HiddenField()
    template_upload = FileField(_l("Tải lên tệp mẫu"))
    remove_file = BooleanField(_l("Bỏ tệp mẫu đã tải lên"))


class ResultRow(Row):
    name = TextAreaField(_l("Tên kết quả"), validators=[Optional(), max_chars(2000)])
    code = StringField(_l("Mã kết quả"), validators=[Optional(), max_chars(100)])


class LegalRow(Row):
    number = StringField(_l("Số ký hiệu"), validators=[Optional(), max_chars(200)])
    title = TextAreaField(_l("Trích yếu"), validators=[Optional(), max_chars(5000)])
    issued_date = DateField(_l("Ngày ban hành"), validators=[Optional()])
    issuer = StringField(_l("Cơ quan ban hành"), validators=[Optional(), max_chars(300)])


class RelatedRow(Row):
    # A code, "code — name" as the list offers, or an exact name: the service finds the code.
    code = StringField(
        _l("Mã hoặc tên thủ tục liên quan"), validators=[Optional(), max_chars(2100)]
    )


# Each repeatable group: its row form, the keys whose content makes a row worth keeping (a row
# left blank is dropped on save), and the values a new row starts with.
GROUPS: dict[str, tuple[type[Row], tuple[str, ...], dict[str, str]]] = {
    "agencies": (AgencyRow, ("agency", "name"), {"role": Role.IMPLEMENTING.value}),
    "steps": (StepRow, ("text",), {"text": ""}),
    "channels": (ChannelRow, (), {"kind": ChannelKind.DIRECT.value}),
    "dossier": (
        DossierRow,
        ("name", "note", "template_name", "template_url", "template_file"),
        {"name": "", "originals": "1", "copies": "0", "required": "y"},
    ),
    "results": (ResultRow, ("name", "code"), {"name": ""}),
    "legal_bases": (LegalRow, ("number", "title", "issued_date", "issuer"), {"number": ""}),
    "related": (RelatedRow, ("code",), {"code": ""}),
}


# --- the editor ---------------------------------------------------------------------------------


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _number_text(value: float | None) -> str:
    return "" if value is None else str(value).replace(".", ",")


class ProcedureForm(StaffForm):
    """Every field of a procedure record, with its repeatable groups as lists of rows."""

    version = HiddenField()
    note = StringField(_l("Ghi chú cho lần lưu này"), validators=[Optional(), max_chars(500)])
    code = StringField(_l("Mã thủ tục"), validators=[DataRequired(), max_chars(50), _CODE])
    name = TextAreaField(_l("Tên thủ tục"), validators=[DataRequired(), max_chars(2000)])
    name_en = TextAreaField(_l("Tên tiếng Anh"), validators=[max_chars(2000)])
    summary_en = TextAreaField(_l("Tóm tắt tiếng Anh"), validators=[max_chars(5000)])
    decision_number = StringField(_l("Số quyết định công bố"), validators=[max_chars(200)])
    decision_date = DateField(_l("Ngày quyết định"), validators=[Optional()])
    levels = SelectMultipleField(_l("Cấp thực hiện"), validate_choice=False)
    procedure_type = StringField(_l("Loại thủ tục"), validators=[max_chars(300)])
    fields = SelectMultipleField(_l("Lĩnh vực"), validate_choice=False)
    subjects = TextAreaField(_l("Đối tượng thực hiện (mỗi dòng một đối tượng)"))
    receiving_address = TextAreaField(_l("Địa chỉ tiếp nhận hồ sơ"), validators=[max_chars(5000)])
    online_level = SelectField(
        _l("Dịch vụ công trực tuyến"),
        choices=[SelectChoice("", _l("Không")), *enum_choices(OnlineLevel)],
    )
    keywords = TextAreaField(_l("Từ khóa tìm kiếm (mỗi dòng một từ khóa)"))
    description = TextAreaField(_l("Mô tả"), validators=[max_chars(20000)])
    requirements = TextAreaField(_l("Yêu cầu, điều kiện"), validators=[max_chars(50000)])
    source_url = StringField(
        _l("Nguồn công bố"), validators=[Optional(), WEB_ADDRESS, max_chars(500)]
    )
    online_url = StringField(
        _l("Địa chỉ nộp trực tuyến"), validators=[Optional(), WEB_ADDRESS, max_chars(1000)]
    )
    agencies = FieldList(FormField(AgencyRow))
    steps = FieldList(FormField(StepRow))
    channels = FieldList(FormField(ChannelRow))
    dossier = FieldList(FormField(DossierRow))
    results = FieldList(FormField(ResultRow))
    legal_bases = FieldList(FormField(LegalRow))
    related = FieldList(FormField(RelatedRow))
    same_fee = BooleanField(_l("Áp dụng cùng phí, lệ phí cho mọi cách thức nộp"), default=True)

    @staticmethod
    def data_from_record(record: dict, token: str) -> dict:
        """Form data showing a canonical procedure record."""
        data = {
            key: record[key]
            for key in (
                "code", "name", "name_en", "summary_en", "decision_number", "levels",
                "procedure_type", "fields", "receiving_address", "description", "requirements",
                "source_url", "online_url",
            )
        }  # fmt: skip
        data.update(
            version=token,
            decision_date=to_date(record["decision_date"]),
            subjects="\n".join(record["subjects"]),
            keywords="\n".join(record["keywords"]),
            online_level=record["online_level"] or "",
            agencies=[{**link, "agency": link["agency"] or ""} for link in record["agencies"]],
            steps=[{"text": text} for text in record["steps"]],
            channels=[
                {
                    **c,
                    "time_limit_value": _number_text(c["time_limit_value"]),
                    "time_limit_unit": c["time_limit_unit"] or "",
                }
                for c in record["channels"]
            ],
            dossier=[{**d, "template_file": d["template_file"] or ""} for d in record["dossier"]],
            results=[{**r, "code": r["code"] or ""} for r in record["results"]],
            legal_bases=[
                {**b, "issued_date": to_date(b["issued_date"])} for b in record["legal_bases"]
            ],
            related=[{"code": code} for code in record["related"]],
            same_fee=len({(c["fee_text"], c["fee_amount"]) for c in record["channels"]}) <= 1,
        )
        return data

    def set_choices(self, agencies: list[tuple[str, str]], fields: list[str], levels: list[str]):
        """Offer the catalogue's agencies, lĩnh vực and levels."""
        self.fields.choices = options((name, name) for name in fields)
        self.levels.choices = options((name, name) for name in levels)
        for entry in self.agencies:
            entry.form.agency.choices = options(agencies)

    def to_raw(self) -> tuple[dict, dict[str, list[int]]]:
        """The input as a raw procedure record for the services, and for each group the form
        row each record item came from (blank rows are dropped), to put errors back."""
        raw = {
            key: getattr(self, key).data or ""
            for key in (
                "code", "name", "name_en", "summary_en", "decision_number", "procedure_type",
                "receiving_address", "description", "requirements", "source_url", "online_url",
                "online_level",
            )
        }  # fmt: skip
        raw.update(
            decision_date=self.decision_date.data,
            levels=self.levels.data or [],
            fields=self.fields.data or [],
            subjects=_lines(self.subjects.data),
            keywords=_lines(self.keywords.data),
        )
        positions: dict[str, list[int]] = {}
        for group, (_row, content, _new) in GROUPS.items():
            items, kept = [], []
            for i, entry in enumerate(getattr(self, group)):
                row = dict(entry.form.data)
                if content and not any(str(row.get(key) or "").strip() for key in content):
                    continue
                items.append(row)
                kept.append(i)
            raw[group] = items
            positions[group] = kept
        for link in raw["agencies"]:
            link["agency"] = link["agency"] or None
        raw["steps"] = [row["text"] for row in raw["steps"]]
        raw["related"] = [row["code"] for row in raw["related"]]
        for item in raw["dossier"]:
            if item.pop("remove_file"):
                item["template_file"] = None
            item.pop("template_upload")
        return raw, positions

    def add_errors(self, errors: dict[str, str], positions: dict[str, list[int]]) -> None:
        """Put a service's errors (keyed by record path) beside the fields they are about."""
        for key, message in errors.items():
            target = self._field_for(key.split("."), positions)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]

    def _field_for(self, parts: list[str], positions: dict[str, list[int]]):
        field = self._fields.get(parts[0])
        if field is None or parts[0] in ("csrf_token", "version"):
            return None
        if parts[0] not in GROUPS or len(parts) == 1:
            return field
        index = row_index(parts[1])
        if index is None or index >= len(positions.get(parts[0], [])):
            return field
        row = field.entries[positions[parts[0]][index]].form
        if len(parts) > 2:
            return row._fields.get(parts[2])
        return next(iter(row._fields.values()))


# --- row actions --------------------------------------------------------------------------------

RowData = list[tuple[str, str]]
_ROW_ACTIONS = ("add", "remove", "up", "down")


def reshape(formdata: MultiDict, action: str) -> MultiDict:
    """Apply a row action to submitted editor data without losing anything typed.

    Actions: "add:<group>", "add:<group>:<i>" (a new row after row i, in the same dossier
    case), "remove:<group>:<i>", "up:<group>:<i>", "down:<group>:<i>". Rows are renumbered
    from 0 so names stay contiguous. Unknown actions change nothing.
    """
    verb, _sep, rest = action.partition(":")
    group, _sep, index_text = rest.partition(":")
    if group not in GROUPS or verb not in _ROW_ACTIONS:
        return formdata
    prefix = f"{group}-"
    rows, others = _split_rows(formdata, prefix)
    index = row_index(index_text)
    if verb == "add":
        _add_row(rows, list(GROUPS[group][2].items()), index)
    elif index is not None and index < len(rows):
        _remove_or_swap(rows, verb, index)
    out = MultiDict(others)
    for i, row in enumerate(rows):
        for tail, value in row:
            out.add(f"{prefix}{i}-{tail}", value)
    return out


def clean_rows(formdata: MultiDict) -> MultiDict:
    """Submitted editor data without the fields that claim a row number that is none: WTForms'
    FieldList takes any Unicode digit ("steps-²-text") for one and then fails to read it, and a
    number past any real row would only make empty rows."""
    return MultiDict(
        (key, value)
        for key, value in formdata.items(multi=True)
        if not any(_false_row(key, group) for group in GROUPS)
    )


def _false_row(key: str, group: str) -> bool:
    """True when FieldList `group` would read a row number from `key` that row_index refuses
    (the same slicing as FieldList._extract_indices)."""
    if not key.startswith(group):
        return False
    head = key[len(group) + 1 :].split("-", 1)[0]
    return head.isdigit() and row_index(head) is None


def _split_rows(formdata: MultiDict, prefix: str) -> tuple[list[RowData], RowData]:
    """The group's rows in order, each as (name after the row number, value) pairs, and the
    rest of the form data as it came."""
    rows: dict[int, RowData] = {}
    others: RowData = []
    for key, value in formdata.items(multi=True):
        head, dash, tail = key[len(prefix) :].partition("-")
        index = row_index(head) if key.startswith(prefix) and dash else None
        if index is not None:
            rows.setdefault(index, []).append((tail, value))
        else:
            others.append((key, value))
    return [rows[i] for i in sorted(rows)], others


def _add_row(rows: list[RowData], new: RowData, after: int | None) -> None:
    """A new row at the end, or after row `after` in the same dossier case."""
    if after is None or after >= len(rows):
        rows.append(new)
        return
    case = [value for key, value in rows[after] if key == "group"]
    rows.insert(after + 1, [*new, ("group", case[0])] if case else new)


def _remove_or_swap(rows: list[RowData], verb: str, index: int) -> None:
    """Remove row `index`, or swap it with its neighbour above ("up") or below ("down")."""
    if verb == "remove":
        rows.pop(index)
        return
    target = index - 1 if verb == "up" else index + 1
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
