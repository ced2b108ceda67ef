"""Forms of public feedback: "was this page useful?" and its comment, the poll's vote, staff
handling an answer, admins' polls, and the search report's period and dictionary rule.

A visitor's forms carry a token that needs no session (PublicToken): a token kept in the
session would give every visitor who opened a procedure page a session cookie, and make that
page and every page after it personal, kept by no cache. The report's period is read from the
query string without a token, as the search box is.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.csrf.core import CSRF
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional, ValidationError

from .. import feedback, polls, reports
from ..models import FeedbackReason
from .common import StaffForm, TranslatedMeta, max_chars, options

REASONS = {
    FeedbackReason.OUTDATED: _l("Thông tin đã cũ"),
    FeedbackReason.FEE_WRONG: _l("Phí, lệ phí không đúng"),
    FeedbackReason.FORM_MISSING: _l("Không tìm thấy mẫu đơn, tờ khai"),
    FeedbackReason.OTHER: _l("Lý do khác"),
}
RULE_KINDS = {
    "synonym": _l("Từ đồng nghĩa (tiếng Việt, viết tắt, cách nói hằng ngày)"),
    "glossary": _l("Thuật ngữ tiếng Anh"),
}


PUBLIC_TOKEN_SALT = "tthc-public-form"
PUBLIC_TOKEN_DAYS = 2  # a page left open this long must be loaded again before it is sent


def public_token() -> str:
    """The token of a visitor's form: signed with the app's secret and dated, the same for
    every visitor, so a page that carries it can still be kept by caches."""
    return _signer().dumps("form")


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PUBLIC_TOKEN_SALT)


class PublicToken(CSRF):
    """CSRF of a visitor's forms without a session: the token must be one this site signed
    less than PUBLIC_TOKEN_DAYS ago. A visitor's form acts with no account's authority, so
    what a session-bound token adds (a forged post cannot act as a signed-in victim) does not
    apply; the post must still come from the site's own page (views/feedback.py refuses
    another site's Origin) and the rate limiter bounds floods."""

    def generate_csrf_token(self, csrf_token_field) -> str:
        return public_token()

    def validate_csrf_token(self, form, field) -> None:
        try:
            _signer().loads(field.data or "", max_age=PUBLIC_TOKEN_DAYS * 86400)
        except BadData:
            raise ValidationError(
                _l(
                    "Biểu mẫu thiếu hoặc sai mã bảo vệ (CSRF), có thể do trang đã mở quá lâu. "
                    "Hãy tải lại trang rồi gửi lại."
                )
            ) from None


class PublicForm(FlaskForm):
    """A visitor's form: a token without a session (PublicToken), WTForms' messages in
    Vietnamese."""

    class Meta(TranslatedMeta):
        csrf_class = PublicToken


class AnswerForm(PublicForm):
    """Yes or no: the two buttons of "was this page useful?" send `useful`."""

    useful = HiddenField(validators=[AnyOf(["yes", "no"], message=_l("Hãy chọn Có hoặc Không."))])


class CommentForm(PublicForm):
    reason = RadioField(
        _l("Lý do"),
        choices=options([("", _l("Không chọn")), *REASONS.items()]),
        default="",
        validators=[Optional()],
    )
    comment = TextAreaField(
        _l("Góp ý của bạn (không bắt buộc)"),
        validators=[Optional(), max_chars(feedback.MAX_COMMENT)],
    )


class VoteForm(PublicForm):
    option = RadioField(
        _l("Câu trả lời"),
        coerce=int,
        validators=[InputRequired(message=_l("Hãy chọn một câu trả lời."))],
    )


class HandleForm(StaffForm):
    done = BooleanField(_l("Đã xử lý xong"))
    note = TextAreaField(_l("Ghi chú xử lý"), validators=[Optional(), max_chars(feedback.MAX_NOTE)])


class PollForm(StaffForm):
    question = StringField(
        _l("Câu hỏi"), validators=[DataRequired(), max_chars(polls.MAX_QUESTION)]
    )
    options = TextAreaField(
        _l("Các câu trả lời (mỗi dòng một câu)"), validators=[DataRequired(), max_chars(3000)]
    )


class PollStateForm(StaffForm):
    is_open = BooleanField(_l("Đang mở cho người dân trả lời"))
    public_results = BooleanField(_l("Công bố kết quả cho mọi người"))


class PeriodForm(FlaskForm):
    """The report's period, read from the query string (no CSRF on GET)."""

    class Meta(TranslatedMeta):
        csrf = False

    first = DateField(_l("Từ ngày"), validators=[Optional()])
    last = DateField(_l("Đến ngày"), validators=[Optional()])


class RuleForm(StaffForm):
    """From a query that found nothing: what it should find, as a synonym or glossary rule."""

    kind = SelectField(_l("Loại"), choices=options(RULE_KINDS.items()))
    query = HiddenField(validators=[DataRequired(), max_chars(reports.MAX_RULE)])
    target = StringField(
        _l("Nên tìm thấy như khi gõ"), validators=[DataRequired(), max_chars(reports.MAX_RULE)]
    )
    first = HiddenField()
    last = HiddenField()
