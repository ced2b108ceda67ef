"""WTForms forms: shape checks only (required, lengths, formats); rules that need the database
live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, StringField
from wtforms.validators import Length, NumberRange, Optional


class SearchForm(FlaskForm):
    """The public search box and its filters, read from the query string (no CSRF on GET)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Tìm thủ tục"), validators=[Optional(), Length(max=500)])
    agency = StringField(validators=[Optional(), Length(max=120)])
    field = StringField(validators=[Optional(), Length(max=200)])
    level = StringField(validators=[Optional(), Length(max=100)])
    subject = StringField(validators=[Optional(), Length(max=200)])
    page = IntegerField(
        default=1,
        validators=[Optional(), NumberRange(min=1, max=10_000, message=_l("Trang không hợp lệ."))],
    )
