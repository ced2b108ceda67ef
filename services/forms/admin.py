"""The admin pages' forms: accounts, agencies, lĩnh vực, site settings and the synonym
dictionary. All but accounts carry the version token of what they were loaded from."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from ..models import AgencyKind, StaffRole
from ..search import synonyms
from .common import COUNT, WEB_ADDRESS, Integer, StaffForm, enum_choices, max_chars


class EnglishFields:
    """The English name and summary a procedure, agency or lĩnh vực may carry."""

    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), max_chars(300)])
    summary_en = TextAreaField(_l("Tóm tắt tiếng Anh"), validators=[Optional(), max_chars(5000)])


class UserForm(StaffForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), max_chars(80)])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), max_chars(200)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), max_chars(200)])
    role = SelectField(_l("Vai trò"), choices=enum_choices(StaffRole))
    agencies = SelectMultipleField(_l("Cơ quan"), validate_choice=False)
    active = BooleanField(_l("Đang hoạt động"), default=True)
    new_password = PasswordField(_l("Mật khẩu"), validators=[Optional(), max_chars(200)])


class VersionForm(StaffForm):
    """Admin forms: the version token of what they were loaded from."""

    version = HiddenField()


class AgencyForm(EnglishFields, VersionForm):
    slug = StringField(_l("Tên đường dẫn"), validators=[Optional(), max_chars(120)])
    name = StringField(_l("Tên cơ quan"), validators=[DataRequired(), max_chars(300)])
    short_name = StringField(_l("Tên ngắn"), validators=[Optional(), max_chars(200)])
    kind = SelectField(_l("Loại cơ quan"), choices=enum_choices(AgencyKind))
    parent = SelectField(_l("Trực thuộc"), validate_choice=False)
    position = Integer(_l("Thứ tự"), default=0, validators=[Optional(), COUNT])
    address = TextAreaField(_l("Địa chỉ"), validators=[Optional(), max_chars(2000)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), max_chars(100)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), max_chars(200)])
    website = StringField(
        _l("Trang thông tin"), validators=[Optional(), WEB_ADDRESS, max_chars(300)]
    )
    opening_hours = TextAreaField(_l("Giờ làm việc"), validators=[Optional(), max_chars(2000)])
    description = TextAreaField(_l("Giới thiệu"), validators=[Optional(), max_chars(5000)])
    valid_from = DateField(_l("Hiệu lực từ ngày"), validators=[Optional()])
    valid_to = DateField(_l("Hết hiệu lực từ ngày"), validators=[Optional()])
    successor = SelectField(_l("Cơ quan kế thừa"), validate_choice=False)
    note = StringField(_l("Ghi chú thay đổi"), validators=[Optional(), max_chars(500)])


class FieldForm(EnglishFields, VersionForm):
    slug = StringField(_l("Tên đường dẫn"), validators=[Optional(), max_chars(200)])
    code = StringField(_l("Mã lĩnh vực"), validators=[Optional(), max_chars(50)])
    name = StringField(_l("Tên lĩnh vực"), validators=[DataRequired(), max_chars(300)])


class SettingsForm(VersionForm):
    portal_name = StringField(_l("Tên cổng"), validators=[Optional(), max_chars(200)])
    locality = StringField(_l("Địa phương"), validators=[Optional(), max_chars(200)])
    base_url = StringField(
        _l("Địa chỉ trang công khai"), validators=[Optional(), WEB_ADDRESS, max_chars(300)]
    )
    intro = TextAreaField(_l("Lời giới thiệu"), validators=[Optional(), max_chars(5000)])
    desk_name = StringField(_l("Tên bộ phận một cửa"), validators=[Optional(), max_chars(300)])
    desk_address = TextAreaField(_l("Địa chỉ"), validators=[Optional(), max_chars(2000)])
    desk_hours = TextAreaField(_l("Giờ làm việc"), validators=[Optional(), max_chars(2000)])
    desk_phone = StringField(_l("Điện thoại"), validators=[Optional(), max_chars(100)])
    desk_email = StringField(_l("Thư điện tử"), validators=[Optional(), max_chars(200)])


class SynonymsForm(VersionForm):
    text = TextAreaField(
        _l("Từ điển đồng nghĩa"), validators=[Optional(), max_chars(synonyms.MAX_TEXT)]
    )
