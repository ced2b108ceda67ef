"""The journey form: a journey's names and summary, and its steps as repeated rows, each with
a few procedure boxes (a code, or "code — name" picked from the list); a blank step and blank
boxes are always offered, and "add a step" works without JavaScript."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from ..inputs import row_index
from ..models import StepMode
from .common import Integer, Row, StaffForm, max_chars

# Blank procedure boxes shown under each step, and under a new step.
BLANK_BOXES = 2
NEW_STEP_BOXES = 3


def clean_rows(formdata: MultiDict) -> MultiDict:
    """Submitted data without the fields that claim a row number that is none: WTForms'
    FieldList takes any Unicode digit ("steps-²-title") for one and then fails to read it
    (as services.forms.editor.clean_rows does for the procedure editor)."""

    def false_row(key: str) -> bool:
        parts = key.split("-")
        numbers = parts[1:2] + (parts[3:4] if parts[2:3] == ["procedures"] else [])
        return any(part.isdigit() and row_index(part) is None for part in numbers)

    return MultiDict(
        (key, value)
        for key, value in formdata.items(multi=True)
        if not (key.startswith("steps-") and false_row(key))
    )


class StepRow(Row):
    title = StringField(_l("Tên bước"), validators=[Optional(), max_chars(300)])
    title_en = StringField(_l("Tên bước bằng tiếng Anh"), validators=[Optional(), max_chars(300)])
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_chars(5000)])
    note_en = TextAreaField(_l("Ghi chú bằng tiếng Anh"), validators=[Optional(), max_chars(5000)])
    optional = BooleanField(_l("Bước không bắt buộc (không tính vào tổng)"))
    mode = SelectField(
        _l("Các thủ tục của bước"),
        choices=[
            SelectChoice(StepMode.ALL.value, _l("Cần tất cả (làm song song)")),
            SelectChoice(StepMode.ANY.value, _l("Chỉ cần một trong các thủ tục")),
        ],
    )
    procedures = FieldList(
        StringField(_l("Thủ tục (mã, hoặc chọn theo tên)"), validators=[max_chars(600)])
    )


class JourneyForm(StaffForm):
    """A journey with its steps."""

    version = HiddenField()
    slug = StringField(_l("Tên đường dẫn"), validators=[Optional(), max_chars(120)])
    name = StringField(_l("Tên hành trình"), validators=[DataRequired(), max_chars(300)])
    name_en = StringField(_l("Tên bằng tiếng Anh"), validators=[Optional(), max_chars(300)])
    summary = TextAreaField(_l("Giới thiệu"), validators=[Optional(), max_chars(5000)])
    summary_en = TextAreaField(
        _l("Giới thiệu bằng tiếng Anh"), validators=[Optional(), max_chars(5000)]
    )
    position = Integer(
        _l("Thứ tự trong danh sách"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=10000, message=_l("Phải từ %(min)s đến %(max)s.")),
        ],
    )
    published = BooleanField(_l("Hiện trên trang công khai"), default=True)
    steps = FieldList(FormField(StepRow))

    @staticmethod
    def data_from_record(record: dict, token: str) -> dict:
        """Form data showing a journey record."""
        return {**record, "version": token}

    def pad(self, new_steps: int = 1) -> None:
        """Offer blank boxes under every step and `new_steps` blank steps at the end."""
        for entry in self.steps:
            for _ in range(BLANK_BOXES):
                entry.form.procedures.append_entry()
        for _ in range(new_steps):
            entry = self.steps.append_entry()
            for _ in range(NEW_STEP_BOXES - len(entry.form.procedures)):
                entry.form.procedures.append_entry()

    def to_raw(self) -> tuple[dict, list[int]]:
        """The journey as the service takes it, without the steps left blank, and the row of
        the form each kept step came from (to put the service's messages back)."""
        steps, rows = [], []
        for row, entry in enumerate(self.steps):
            step = entry.form
            texts = [(box.data or "").strip() for box in step.procedures]
            texts = [text for text in texts if text]
            if not (step.title.data or "").strip() and not texts:
                continue
            rows.append(row)
            steps.append(
                {
                    "title": step.title.data,
                    "title_en": step.title_en.data,
                    "note": step.note.data,
                    "note_en": step.note_en.data,
                    "optional": bool(step.optional.data),
                    "mode": step.mode.data,
                    "procedures": texts,
                }
            )
        raw = {
            "slug": self.slug.data or "",
            "name": self.name.data,
            "name_en": self.name_en.data,
            "summary": self.summary.data,
            "summary_en": self.summary_en.data,
            "position": self.position.data or 0,
            "published": bool(self.published.data),
            "steps": steps,
        }
        return raw, rows
