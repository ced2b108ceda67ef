"""Logging in and changing one's own password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from .common import StaffForm, max_chars


class LoginForm(StaffForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), max_chars(80)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), max_chars(200)])


class PasswordForm(StaffForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), max_chars(200)])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[EqualTo("new_password", message=_l("Hai lần nhập không khớp nhau."))],
    )
