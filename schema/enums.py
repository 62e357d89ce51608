"""The domain's enumerations, registered as GraphQL enums (same names, same values).

``strawberry.enum`` marks the domain classes in place, so the schema and the services
share one set of enum classes."""

import strawberry

from auth.enums import AccountKind, Channel, RepresentativeRole, Role, Scope
from levels.cases.enums import (
    ApplicantKind,
    CardColor,
    CaseStatus,
    ClockState,
    Decision,
    MaterialSource,
    MaterialState,
    RejectionReason,
)
from levels.common.enums import (
    DeliveryMethod,
    HandlingKind,
    Level,
    MaterialForm,
    MatterStatus,
    MatterType,
    OnlineLevel,
    OrgKind,
    SpecialProcedureKind,
    VillageServiceMode,
    WindowKind,
)
from levels.outbox.models import MessageState
from levels.proxy.models import AuthorizationMethod
from levels.proxy.service import AuthorizationStatus
from levels.supervision.targets import SupervisionTarget

strawberry.enum(Level, description="The four levels: 市 / 县 / 乡镇 / 村")
strawberry.enum(OrgKind)
strawberry.enum(MatterType, description="事项类型")
strawberry.enum(MatterStatus)
strawberry.enum(HandlingKind, description="即办件 / 承诺件")
strawberry.enum(MaterialForm)
strawberry.enum(SpecialProcedureKind, description="特殊环节")
strawberry.enum(OnlineLevel)
strawberry.enum(DeliveryMethod)
strawberry.enum(VillageServiceMode, description="村级服务方式")
strawberry.enum(WindowKind)
strawberry.enum(AccountKind, description="Kinds of account: resident, firm, staff, agent…")
strawberry.enum(Role, description="Staff roles: 受理, 审查, 决定, 出件, 督查, 管理")
strawberry.enum(RepresentativeRole, description="法定代表人 or 经办人")
strawberry.enum(Channel, description="Where a person is (or a case came from)")
strawberry.enum(Scope, description="What a machine client may do")
strawberry.enum(CaseStatus, description="办件状态: the lifecycle of DESIGN §3")
strawberry.enum(ApplicantKind)
strawberry.enum(MaterialSource, description="A file, a paper record, or an e-licence")
strawberry.enum(MaterialState)
strawberry.enum(RejectionReason, description="不予受理的理由")
strawberry.enum(Decision)
strawberry.enum(CardColor, description="电子监察: YELLOW warns, RED records an overdue case")
strawberry.enum(ClockState, description="GREEN, YELLOW (most of the limit used), RED (overdue)")
strawberry.enum(
    MessageState,
    description="A cross-level message: PENDING, SENT (on the message transport, its "
    "receipt not back yet), DELIVERED (applied in its target), ACKNOWLEDGED (the source "
    "knows: with a transport, it holds the target's signed receipt), FAILED (an incident)",
)
strawberry.enum(AuthorizationMethod, description="代办授权: written, in person, or in the app")
strawberry.enum(AuthorizationStatus, description="代办授权: usable, past its last day, revoked")
strawberry.enum(SupervisionTarget, description="A target the seeds set for a supervision figure")

__all__ = [
    "AccountKind",
    "ApplicantKind",
    "AuthorizationMethod",
    "AuthorizationStatus",
    "CardColor",
    "CaseStatus",
    "Channel",
    "ClockState",
    "Decision",
    "DeliveryMethod",
    "HandlingKind",
    "Level",
    "MaterialForm",
    "MaterialSource",
    "MaterialState",
    "MatterStatus",
    "MatterType",
    "MessageState",
    "OnlineLevel",
    "OrgKind",
    "RejectionReason",
    "RepresentativeRole",
    "Role",
    "Scope",
    "SpecialProcedureKind",
    "SupervisionTarget",
    "VillageServiceMode",
    "WindowKind",
]
