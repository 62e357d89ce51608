"""The domain's enumerations, registered as GraphQL enums (same names, same values).

``strawberry.enum`` marks the domain classes in place, so the schema and the services
share one set of enum classes."""

import strawberry

from auth.enums import AccountKind, Channel, RepresentativeRole, Role, Scope
from levels.cases.enums import (
    ApplicantKind,
    CardClock,
    CardColor,
    CaseStatus,
    ClockState,
    Decision,
    MaterialSource,
    MaterialState,
    PreReviewResult,
    RejectionReason,
    ToleranceConsequence,
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
strawberry.enum(
    OrgKind, description="The kind of service body: 政务服务中心, 便民服务中心 or 便民服务站"
)
strawberry.enum(MatterType, description="事项类型")
strawberry.enum(
    MatterStatus, description="Whether a matter or item is a draft, published or abolished"
)
strawberry.enum(HandlingKind, description="即办件 / 承诺件")
strawberry.enum(
    MaterialForm, description="The form a material is asked for in (original, copy, electronic …)"
)
strawberry.enum(SpecialProcedureKind, description="特殊环节")
strawberry.enum(OnlineLevel, description="How far a matter can be done online")
strawberry.enum(
    DeliveryMethod,
    description=("How a result reaches the applicant: picked up at a window, posted, online"),
)
strawberry.enum(VillageServiceMode, description="村级服务方式")
strawberry.enum(
    WindowKind,
    description=(
        "What a window does: comprehensive reception or output, a "
        "department's own, consultation, self-service"
    ),
)
strawberry.enum(AccountKind, description="Kinds of account: resident, firm, staff, agent…")
strawberry.enum(Role, description="Staff roles: 受理, 审查, 决定, 出件, 督查, 管理")
strawberry.enum(RepresentativeRole, description="法定代表人 or 经办人")
strawberry.enum(Channel, description="Where a person is (or a case came from)")
strawberry.enum(Scope, description="What a machine client may do")
strawberry.enum(CaseStatus, description="办件状态: the lifecycle of DESIGN §3")
strawberry.enum(ApplicantKind, description="Who applies: a person (自然人) or an enterprise (法人)")
strawberry.enum(
    MaterialSource,
    description="A file, a paper record, an e-licence, or the verified identity (居民身份证)",
)
strawberry.enum(
    MaterialState,
    description=("Where a case's material stands: handed in, missing, incorrect, owed (容缺)"),
)
strawberry.enum(RejectionReason, description="不予受理的理由")
strawberry.enum(Decision, description="准予 or 不予: the decision on a case or one part of it")
strawberry.enum(ToleranceConsequence, description="容缺承诺: what follows a late material")
strawberry.enum(CardColor, description="电子监察: YELLOW warns, RED records an overdue case")
strawberry.enum(
    CardClock,
    description="The clock a card was issued against: HANDLING, REFERRAL (转报时限), "
    "SPECIAL_PROCEDURE (特殊环节) or PRE_REVIEW (网上预审)",
)
strawberry.enum(PreReviewResult, description="网上预审: passed, or what is missing is listed")
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
    "CardClock",
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
    "PreReviewResult",
    "RejectionReason",
    "RepresentativeRole",
    "Role",
    "Scope",
    "SpecialProcedureKind",
    "SupervisionTarget",
    "ToleranceConsequence",
    "VillageServiceMode",
    "WindowKind",
]
