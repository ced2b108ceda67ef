"""What every form shares: WTForms' messages in Vietnamese, the staff form and row bases, the
integer field, choices from enums, the length, URL and count checks, and putting a service's
errors back."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField
from wtforms.fields import SelectChoice
from wtforms.validators import URL, Length, NumberRange

from ..inputs import MAX_BIG, integer
from ..labels import LABELS

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


TRANSLATIONS = _Translations()


class TranslatedMeta:
    """Form meta that gives WTForms' own messages in Vietnamese."""

    def get_translations(self, form):
        return TRANSLATIONS


class StaffForm(FlaskForm):
    """Base of the staff forms: CSRF (Flask-WTF) and WTForms' messages in Vietnamese."""

    class Meta(TranslatedMeta):
        pass


class Row(Form):
    """Base of one row of a repeatable group (no CSRF of its own)."""

    class Meta(TranslatedMeta):
        pass


class Integer(IntegerField):
    """An integer field read with inputs.integer: ASCII digits only (WTForms' int() takes "١٢"
    and numbers of any length); the range a field allows is its validators' to say."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0]  # a file, when one is sent under this field's name
        try:
            self.data = integer(
                text.strip() if isinstance(text, str) else None, minimum=-MAX_BIG, maximum=MAX_BIG
            )
        except ValueError as exc:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value.")) from exc


def put_errors(form: Form, errors: dict[str, str], default: str) -> None:
    """Show a service's validation messages beside the fields they name (others beside
    `default`)."""
    for key, message in errors.items():
        field = getattr(form, key, None)
        if field is None:
            field = getattr(form, default)
        field.errors = [*field.errors, message]


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Choices for a select field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(enum_class: type[Enum]) -> list[SelectChoice]:
    """Choices for a select field: every member of a stored-code enum with its label."""
    return options((item.value, LABELS[item]) for item in enum_class)


def max_chars(n: int) -> Length:
    """At most `n` characters, said in Vietnamese."""
    return Length(max=n, message=_l("Tối đa %(max)d ký tự."))


WEB_ADDRESS = URL(message=_l("Địa chỉ web không hợp lệ (cần dạng https://…)."))
COUNT = NumberRange(min=0, max=1000, message=_l("Phải từ %(min)s đến %(max)s."))
