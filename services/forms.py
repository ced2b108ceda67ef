"""WTForms forms: shape checks only (required, lengths, formats); rules that need the database
live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional


class WholeNumberField(IntegerField):
    """An integer field whose parse error is in the interface language."""

    def __init__(self, *args, invalid=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid = invalid or _l("Phải là một số nguyên.")

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] == "":
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(str(self.invalid)) from None


SORTS = [
    SelectChoice("relevance", _l("Phù hợp nhất")),
    SelectChoice("name", _l("Tên (A–Z)")),
    SelectChoice("code", _l("Mã thủ tục")),
    SelectChoice("updated", _l("Mới cập nhật")),
]
_PAGE_MESSAGE = _l("Trang không hợp lệ.")
_FILTER_LENGTH = Length(max=200, message=_l("Giá trị bộ lọc quá dài."))


class SearchForm(FlaskForm):
    """The public search box and its filters, read from the query string (no CSRF on GET)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Tìm thủ tục"),
        validators=[
            Optional(),
            Length(max=500, message=_l("Từ khóa quá dài (tối đa %(max)d ký tự).")),
        ],
    )
    agency = StringField(validators=[Optional(), _FILTER_LENGTH])
    field = StringField(validators=[Optional(), _FILTER_LENGTH])
    level = StringField(validators=[Optional(), _FILTER_LENGTH])
    subject = StringField(validators=[Optional(), _FILTER_LENGTH])
    online = StringField(validators=[Optional(), _FILTER_LENGTH])
    sort = SelectField(
        _l("Sắp xếp"),
        choices=SORTS,
        default="relevance",
        validate_choice=False,
    )
    page = WholeNumberField(
        default=1,
        invalid=_PAGE_MESSAGE,
        validators=[Optional(), NumberRange(min=1, max=10_000, message=_PAGE_MESSAGE)],
    )


class ApiSearchForm(SearchForm):
    """The JSON API's search parameters: the page's, plus the page size."""

    per_page = WholeNumberField(
        default=20,
        invalid=_l("per_page phải là số nguyên."),
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("per_page phải từ 1 đến %(max)s.")),
        ],
    )
