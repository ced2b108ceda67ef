"""WTForms forms: shape checks only (required, lengths, formats); rules that need the database
live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from .catalogue.convert import to_date
from .catalogue.records import CODE_PATTERN
from .labels import LABELS
from .models import AgencyKind, ChannelKind, OnlineLevel, Role, StaffRole, TimeUnit
from .search import synonyms

SORTS = [
    SelectChoice("relevance", _l("Phù hợp nhất")),
    SelectChoice("name", _l("Tên (A–Z)")),
    SelectChoice("code", _l("Mã thủ tục")),
    SelectChoice("updated", _l("Mới cập nhật")),
]
_PAGE = _l("Trang không hợp lệ.")
_QUERY_LENGTH = Length(max=500, message=_l("Từ khóa quá dài (tối đa %(max)d ký tự)."))
_FILTER_LENGTH = Length(max=200, message=_l("Giá trị bộ lọc quá dài."))


class SearchForm(FlaskForm):
    """The public search box, its filters and order, read from the query string (no CSRF on
    GET). Facet values and the order are checked by the search service."""

    class Meta:
        csrf = False

        def get_translations(self, form):
            return _TRANSLATIONS

    q = SearchField(
        _l("Tìm thủ tục"),
        validators=[Optional(), _QUERY_LENGTH],
    )
    agency = StringField(validators=[Optional(), _FILTER_LENGTH])
    field = StringField(validators=[Optional(), _FILTER_LENGTH])
    level = StringField(validators=[Optional(), _FILTER_LENGTH])
    subject = StringField(validators=[Optional(), _FILTER_LENGTH])
    online = StringField(validators=[Optional(), _FILTER_LENGTH])
    sort = SelectField(_l("Sắp xếp"), choices=SORTS, default="relevance", validate_choice=False)
    page = IntegerField(
        default=1, validators=[Optional(), NumberRange(min=1, max=10_000, message=_PAGE)]
    )


class ApiSearchForm(SearchForm):
    """The JSON API's search parameters: the page's, plus the page size."""

    per_page = IntegerField(
        default=20,
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("per_page phải từ 1 đến %(max)s.")),
        ],
    )


# --- staff forms --------------------------------------------------------------------------------

# WTForms ships no Vietnamese catalogue: its own messages go through ours.
_WTFORMS_MESSAGES = {
    "This field is required.": _l("Không được để trống."),
    "Not a valid integer value.": _l("Phải là số nguyên."),
    "Not a valid decimal value.": _l("Phải là một số."),
    "Not a valid float value.": _l("Phải là một số."),
    "Not a valid date value.": _l("Ngày không hợp lệ."),
    "Not a valid choice.": _l("Lựa chọn không hợp lệ."),
    "Invalid Choice: could not coerce.": _l("Lựa chọn không hợp lệ."),
    "Invalid URL.": _l("Địa chỉ web không hợp lệ (cần dạng https://…)."),
    "Invalid email address.": _l("Địa chỉ thư điện tử không hợp lệ."),
    "Invalid input.": _l("Giá trị không hợp lệ."),
    "Number must be at least %(min)s.": _l("Không được nhỏ hơn %(min)s."),
    "Number must be at most %(max)s.": _l("Không được lớn hơn %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Phải từ %(min)s đến %(max)s."),
    "Field must be equal to %(other_name)s.": _l("Hai lần nhập không khớp nhau."),
    "'%(value)s' is not a valid choice for this field.": _l("“%(value)s” không có để chọn."),
    "'%(value)s' are not valid choices for this field.": _l("“%(value)s” không có để chọn."),
}


class _Translations:
    def gettext(self, string: str) -> str:
        return str(_WTFORMS_MESSAGES.get(string, string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


_TRANSLATIONS = _Translations()


class StaffForm(FlaskForm):
    """Base of the staff forms: CSRF (Flask-WTF) and WTForms' messages in Vietnamese."""

    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS


class _Row(Form):
    """Base of one row of a repeatable group (no CSRF of its own)."""

    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS


def put_errors(form: Form, errors: dict[str, str], default: str) -> None:
    """Show a service's validation messages beside the fields they name (others beside
    `default`)."""
    for key, message in errors.items():
        field = getattr(form, key, None)
        if field is None:
            field = getattr(form, default)
        field.errors = [*field.errors, message]


def options(pairs) -> list[SelectChoice]:
    """Choices for a select field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _choices(enum_class) -> list[SelectChoice]:
    return options((item.value, LABELS[item]) for item in enum_class)


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Tối đa %(max)d ký tự."))


_URL = URL(message=_l("Địa chỉ web không hợp lệ (cần dạng https://…)."))
_COUNT = NumberRange(min=0, max=1000, message=_l("Phải từ %(min)s đến %(max)s."))
_CODE = Regexp(CODE_PATTERN, message=_l("Mã thủ tục chỉ gồm chữ, số và . - _, ví dụ 1.001193."))


class LoginForm(StaffForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), _max(80)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), _max(200)])


class PasswordForm(StaffForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), _max(200)])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[EqualTo("new_password", message=_l("Hai lần nhập không khớp nhau."))],
    )


class UserForm(StaffForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), _max(80)])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), _max(200)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), _max(200)])
    role = SelectField(_l("Vai trò"), choices=_choices(StaffRole))
    agencies = SelectMultipleField(_l("Cơ quan"), validate_choice=False)
    active = BooleanField(_l("Đang hoạt động"), default=True)
    new_password = PasswordField(_l("Mật khẩu"), validators=[Optional(), _max(200)])


class NoteForm(StaffForm):
    """A workflow step on a procedure: the token it was loaded with and a note."""

    version = HiddenField()
    note = StringField(_l("Ghi chú"), validators=[Optional(), _max(500)])


class AbolishForm(NoteForm):
    reason = TextAreaField(_l("Lý do bãi bỏ"), validators=[DataRequired(), _max(5000)])
    replaced_by = StringField(_l("Mã thủ tục thay thế"), validators=[Optional(), _CODE])


class RestoreForm(NoteForm):
    publish = BooleanField(_l("Công bố ngay"))


class VersionForm(StaffForm):
    """Admin forms: the version token of what they were loaded from."""

    version = HiddenField()


class AgencyForm(VersionForm):
    slug = StringField(_l("Tên đường dẫn"), validators=[Optional(), _max(120)])
    name = StringField(_l("Tên cơ quan"), validators=[DataRequired(), _max(300)])
    short_name = StringField(_l("Tên ngắn"), validators=[Optional(), _max(200)])
    kind = SelectField(_l("Loại cơ quan"), choices=_choices(AgencyKind))
    parent = SelectField(_l("Trực thuộc"), validate_choice=False)
    position = IntegerField(_l("Thứ tự"), default=0, validators=[Optional(), _COUNT])
    address = TextAreaField(_l("Địa chỉ"), validators=[Optional(), _max(2000)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), _max(100)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), _max(200)])
    website = StringField(_l("Trang thông tin"), validators=[Optional(), _URL, _max(300)])
    opening_hours = TextAreaField(_l("Giờ làm việc"), validators=[Optional(), _max(2000)])
    description = TextAreaField(_l("Giới thiệu"), validators=[Optional(), _max(5000)])
    valid_from = DateField(_l("Hiệu lực từ ngày"), validators=[Optional()])
    valid_to = DateField(_l("Hết hiệu lực từ ngày"), validators=[Optional()])
    successor = SelectField(_l("Cơ quan kế thừa"), validate_choice=False)
    note = StringField(_l("Ghi chú thay đổi"), validators=[Optional(), _max(500)])


class FieldForm(VersionForm):
    slug = StringField(_l("Tên đường dẫn"), validators=[Optional(), _max(200)])
    code = StringField(_l("Mã lĩnh vực"), validators=[Optional(), _max(50)])
    name = StringField(_l("Tên lĩnh vực"), validators=[DataRequired(), _max(300)])


class SettingsForm(VersionForm):
    portal_name = StringField(_l("Tên cổng"), validators=[Optional(), _max(200)])
    locality = StringField(_l("Địa phương"), validators=[Optional(), _max(200)])
    base_url = StringField(_l("Địa chỉ trang công khai"), validators=[Optional(), _URL, _max(300)])
    intro = TextAreaField(_l("Lời giới thiệu"), validators=[Optional(), _max(5000)])
    desk_name = StringField(_l("Tên bộ phận một cửa"), validators=[Optional(), _max(300)])
    desk_address = TextAreaField(_l("Địa chỉ"), validators=[Optional(), _max(2000)])
    desk_hours = TextAreaField(_l("Giờ làm việc"), validators=[Optional(), _max(2000)])
    desk_phone = StringField(_l("Điện thoại"), validators=[Optional(), _max(100)])
    desk_email = StringField(_l("Thư điện tử"), validators=[Optional(), _max(200)])


class SynonymsForm(VersionForm):
    text = TextAreaField(_l("Từ điển đồng nghĩa"), validators=[Optional(), _max(synonyms.MAX_TEXT)])


# --- the procedure editor -----------------------------------------------------------------------


class StepRow(_Row):
    text = TextAreaField(_l("Nội dung bước"), validators=[Optional(), _max(20000)])


class AgencyRow(_Row):
    role = SelectField(_l("Vai trò"), choices=_choices(Role))
    agency = SelectField(_l("Cơ quan trong danh mục"), validate_choice=False)
    name = StringField(_l("Hoặc tên cơ quan"), validators=[Optional(), _max(500)])


class ChannelRow(_Row):
    kind = SelectField(_l("Hình thức nộp"), choices=_choices(ChannelKind))
    time_limit_value = StringField(
        _l("Thời hạn"),
        validators=[
            Optional(),
            Regexp(r"^\d{1,6}(?:[.,]\d{1,3})?$", message=_l("Phải là một số, ví dụ 15 hoặc 0,5.")),
        ],
    )
    time_limit_unit = SelectField(
        _l("Đơn vị"), choices=[SelectChoice("", _l("(không ghi)")), *_choices(TimeUnit)]
    )
    time_limit_text = TextAreaField(_l("Thời hạn (nguyên văn)"), validators=[_max(5000)])
    fee_text = TextAreaField(_l("Phí, lệ phí"), validators=[_max(5000)])
    fee_amount = IntegerField(
        _l("Số tiền (đồng)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10**12, message=_l("Phải từ %(min)s đến %(max)s.")),
        ],
    )
    note = TextAreaField(_l("Mô tả"), validators=[_max(5000)])


class DossierRow(_Row):
    group = StringField(_l("Trường hợp"), validators=[Optional(), _max(1000)])
    name = TextAreaField(_l("Tên giấy tờ"), validators=[Optional(), _max(5000)])
    originals = IntegerField(_l("Số bản chính"), default=1, validators=[Optional(), _COUNT])
    copies = IntegerField(_l("Số bản sao"), default=0, validators=[Optional(), _COUNT])
    required = BooleanField(_l("Bắt buộc"), default=True)
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), _max(5000)])
    template_name = StringField(_l("Tên mẫu đơn, tờ khai"), validators=[Optional(), _max(500)])
    template_url = StringField(_l("Đường dẫn tải mẫu"), validators=[Optional(), _URL, _max(1000)])
    template_file = HiddenField()
    template_upload = FileField(_l("Tải lên tệp mẫu"))
    remove_file = BooleanField(_l("Bỏ tệp mẫu đã tải lên"))


class ResultRow(_Row):
    name = TextAreaField(_l("Tên kết quả"), validators=[Optional(), _max(2000)])
    code = StringField(_l("Mã kết quả"), validators=[Optional(), _max(100)])


class LegalRow(_Row):
    number = StringField(_l("Số ký hiệu"), validators=[Optional(), _max(200)])
    title = TextAreaField(_l("Trích yếu"), validators=[Optional(), _max(5000)])
    issued_date = DateField(_l("Ngày ban hành"), validators=[Optional()])
    issuer = StringField(_l("Cơ quan ban hành"), validators=[Optional(), _max(300)])


class RelatedRow(_Row):
    code = StringField(_l("Mã thủ tục liên quan"), validators=[Optional(), _CODE])


# Each repeatable group: its row form, the keys whose content makes a row worth keeping (a row
# left blank is dropped on save), and the values a new row starts with.
GROUPS: dict[str, tuple[type[_Row], tuple[str, ...], dict[str, str]]] = {
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


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProcedureForm(StaffForm):
    """Every field of a procedure record, with its repeatable groups as lists of rows."""

    version = HiddenField()
    note = StringField(_l("Ghi chú cho lần lưu này"), validators=[Optional(), _max(500)])
    code = StringField(_l("Mã thủ tục"), validators=[DataRequired(), _max(50), _CODE])
    name = TextAreaField(_l("Tên thủ tục"), validators=[DataRequired(), _max(2000)])
    decision_number = StringField(_l("Số quyết định công bố"), validators=[_max(200)])
    decision_date = DateField(_l("Ngày quyết định"), validators=[Optional()])
    levels = SelectMultipleField(_l("Cấp thực hiện"), validate_choice=False)
    procedure_type = StringField(_l("Loại thủ tục"), validators=[_max(300)])
    fields = SelectMultipleField(_l("Lĩnh vực"), validate_choice=False)
    subjects = TextAreaField(_l("Đối tượng thực hiện (mỗi dòng một đối tượng)"))
    receiving_address = TextAreaField(_l("Địa chỉ tiếp nhận hồ sơ"), validators=[_max(5000)])
    online_level = SelectField(
        _l("Dịch vụ công trực tuyến"),
        choices=[SelectChoice("", _l("Không")), *_choices(OnlineLevel)],
    )
    keywords = TextAreaField(_l("Từ khóa tìm kiếm (mỗi dòng một từ khóa)"))
    description = TextAreaField(_l("Mô tả"), validators=[_max(20000)])
    requirements = TextAreaField(_l("Yêu cầu, điều kiện"), validators=[_max(50000)])
    source_url = StringField(_l("Nguồn công bố"), validators=[Optional(), _URL, _max(500)])
    agencies = FieldList(FormField(AgencyRow))
    steps = FieldList(FormField(StepRow))
    channels = FieldList(FormField(ChannelRow))
    dossier = FieldList(FormField(DossierRow))
    results = FieldList(FormField(ResultRow))
    legal_bases = FieldList(FormField(LegalRow))
    related = FieldList(FormField(RelatedRow))

    @staticmethod
    def data_from_record(record: dict, token: str) -> dict:
        """Form data showing a canonical procedure record."""
        data = {
            key: record[key]
            for key in (
                "code", "name", "decision_number", "levels", "procedure_type", "fields",
                "receiving_address", "description", "requirements", "source_url",
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
                "code", "name", "decision_number", "procedure_type", "receiving_address",
                "description", "requirements", "source_url", "online_level",
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
        if not parts[1].isdigit() or int(parts[1]) >= len(positions.get(parts[0], [])):
            return field
        row = field.entries[positions[parts[0]][int(parts[1])]].form
        if len(parts) > 2:
            return row._fields.get(parts[2])
        return next(iter(row._fields.values()))


def _number_text(value: float | None) -> str:
    return "" if value is None else str(value).replace(".", ",")


def reshape(formdata: MultiDict, action: str) -> MultiDict:
    """Apply a row action to submitted editor data without losing anything typed.

    Actions: "add:<group>", "add:<group>:<i>" (a new row after row i, in the same dossier
    case), "remove:<group>:<i>", "up:<group>:<i>", "down:<group>:<i>". Rows are renumbered
    from 0 so names stay contiguous. Unknown actions change nothing.
    """
    verb, _sep, rest = action.partition(":")
    group, _sep, index_text = rest.partition(":")
    if group not in GROUPS or verb not in ("add", "remove", "up", "down"):
        return formdata
    prefix = f"{group}-"
    rows: dict[int, list[tuple[str, str]]] = {}
    others: list[tuple[str, str]] = []
    for key, value in formdata.items(multi=True):
        head, dash, tail = key[len(prefix) :].partition("-")
        if key.startswith(prefix) and head.isdigit() and dash:
            rows.setdefault(int(head), []).append((tail, value))
        else:
            others.append((key, value))
    ordered = [rows[i] for i in sorted(rows)]
    index = int(index_text) if index_text.isdigit() else None
    if verb == "add":
        new = list(GROUPS[group][2].items())
        if index is not None and index < len(ordered):
            case = [v for k, v in ordered[index] if k == "group"]
            ordered.insert(index + 1, [*new, ("group", case[0])] if case else new)
        else:
            ordered.append(new)
    elif index is not None and index < len(ordered):
        if verb == "remove":
            ordered.pop(index)
        else:
            target = index - 1 if verb == "up" else index + 1
            if 0 <= target < len(ordered):
                ordered[index], ordered[target] = ordered[target], ordered[index]
    out = MultiDict(others)
    for i, row in enumerate(ordered):
        for tail, value in row:
            out.add(f"{prefix}{i}-{tail}", value)
    return out
