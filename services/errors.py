"""Errors the services raise; views map them to HTTP (NotFound → 404, PermissionDenied → 403,
ValidationError → form errors or 400, Conflict → 409)."""

from flask_babel import gettext as _


class ServiceError(Exception):
    """Base of the errors a use case reports to its caller."""


class NotFound(ServiceError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class PermissionDenied(ServiceError):
    """The acting user may not do this."""


class ValidationError(ServiceError):
    """Input the service cannot accept; `errors` maps a field path to a message."""

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))


class Conflict(ServiceError):
    """A change that would silently overwrite newer work (a staff edit made in the portal)."""


class EditConflict(Conflict):
    """What a form was loaded with changed since (optimistic locking). `record` and `token` are
    the stored state and its version token, so the user can compare, merge and save again."""

    def __init__(self, record: dict, token: str):
        self.record = record
        self.token = token
        super().__init__(
            _(
                "Thủ tục này vừa được người khác thay đổi sau khi bạn mở nó. Thay đổi của bạn "
                "CHƯA được lưu: hãy so sánh hai bản dưới đây, gộp lại rồi lưu lần nữa."
            )
        )
