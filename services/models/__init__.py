"""The portal's tables, by subject: the catalogue, the staff area, search, public feedback
and the audit trail.

Models hold data and small derived properties only; every change goes through the services,
which own the transaction (services.db).
"""

from .audit import AuditEntry
from .catalogue import (
    Agency,
    AgencyKind,
    Channel,
    ChannelKind,
    DossierItem,
    Field,
    LegalBasis,
    Level,
    OnlineLevel,
    Procedure,
    ProcedureAgency,
    RelatedProcedure,
    Result,
    Role,
    SiteSettings,
    Status,
    Step,
    Subject,
    TimeUnit,
    procedure_field,
    procedure_level,
    procedure_subject,
)
from .changes import CatalogueChange
from .feedback import (
    FeedbackReason,
    PageFeedback,
    Poll,
    PollOption,
    PollVote,
    SearchClick,
)
from .search import (
    SearchLog,
    SearchPending,
)
from .staff import (
    AgencyRevision,
    Attachment,
    LoginAttempt,
    ProcedureDraft,
    ProcedureRevision,
    StaffRole,
    User,
    user_agency,
)

__all__ = [
    "Agency",
    "AgencyKind",
    "AgencyRevision",
    "Attachment",
    "AuditEntry",
    "CatalogueChange",
    "Channel",
    "ChannelKind",
    "DossierItem",
    "FeedbackReason",
    "Field",
    "LegalBasis",
    "Level",
    "LoginAttempt",
    "OnlineLevel",
    "PageFeedback",
    "Poll",
    "PollOption",
    "PollVote",
    "Procedure",
    "ProcedureAgency",
    "ProcedureDraft",
    "ProcedureRevision",
    "RelatedProcedure",
    "Result",
    "Role",
    "SearchClick",
    "SearchLog",
    "SearchPending",
    "SiteSettings",
    "StaffRole",
    "Status",
    "Step",
    "Subject",
    "TimeUnit",
    "User",
    "procedure_field",
    "procedure_level",
    "procedure_subject",
    "user_agency",
]
