"""Forms of public feedback: "was this page useful?" and its comment, the poll's vote, staff
handling an answer, admins' polls, and the search report's period and dictionary rule.

Public forms carry CSRF like staff forms (a visitor's session holds the token); the report's
period is read from the query string without it, as the search box is.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional

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


class PublicForm(FlaskForm):
    """A visitor's form: CSRF checked, WTForms' messages in Vietnamese."""

    class Meta(TranslatedMeta):
        pass


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
