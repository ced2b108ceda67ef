"""The public search form (read from the query string, no CSRF) and the JSON API's, with the
orders a search can be sorted in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from .common import Integer, TranslatedMeta

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

    class Meta(TranslatedMeta):
        csrf = False

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
    page = Integer(
        default=1, validators=[Optional(), NumberRange(min=1, max=10_000, message=_PAGE)]
    )


class ApiSearchForm(SearchForm):
    """The JSON API's search parameters: the page's, plus the page size."""

    per_page = Integer(
        default=20,
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("per_page phải từ 1 đến %(max)s.")),
        ],
    )
