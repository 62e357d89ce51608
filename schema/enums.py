"""The domain's enumerations, registered as GraphQL enums (same names, same values).

``strawberry.enum`` marks the domain classes in place, so the schema and the services
share one set of enum classes."""

import strawberry

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

__all__ = [
    "DeliveryMethod",
    "HandlingKind",
    "Level",
    "MaterialForm",
    "MatterStatus",
    "MatterType",
    "OnlineLevel",
    "OrgKind",
    "SpecialProcedureKind",
    "VillageServiceMode",
    "WindowKind",
]
