"""All mapped classes, importable from one place (and known to Alembic through it)."""

from laks.models.audit import AuditEvent
from laks.models.base import Base, utcnow
from laks.models.catalogue import CaseConsent, Edition, EditionCase
from laks.models.mail import MailMessage, Notification
from laks.models.modules import (
    ModuleComment,
    ModuleDefinition,
    ModuleDefinitionVersion,
    ModuleRevision,
    StateChange,
    UnitModule,
)
from laks.models.organisation import (
    ModuleDue,
    Municipality,
    Programme,
    SharedMeasure,
    Unit,
)
from laks.models.progress import ProgressScore
from laks.models.users import Membership, User

__all__ = [
    "AuditEvent",
    "Base",
    "CaseConsent",
    "Edition",
    "EditionCase",
    "MailMessage",
    "Membership",
    "ModuleComment",
    "ModuleDefinition",
    "ModuleDefinitionVersion",
    "ModuleRevision",
    "Notification",
    "ModuleDue",
    "Municipality",
    "Programme",
    "ProgressScore",
    "SharedMeasure",
    "StateChange",
    "Unit",
    "UnitModule",
    "User",
    "utcnow",
]
