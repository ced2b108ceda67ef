"""The forms of stale entries: "checked, still correct" and marking a legal document replaced.
(The review queue's approve and return use the workflow's NoteForm.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from .common import StaffForm, max_chars


class CheckedForm(StaffForm):
    """ "Checked, still correct" on a procedure: nothing but the CSRF token."""


class LegalDocumentForm(StaffForm):
    """Mark a legal document (named by its number) as replaced, or not any more."""

    number = HiddenField(
        _l("Số hiệu văn bản"),
        validators=[DataRequired(_l("Cần số hiệu của văn bản.")), max_chars(200)],
    )
    replaced = BooleanField(_l("Đã được thay thế"))
