"""Mutations of the village station's service modes (上门办理) and of the languages desks
serve in (藏汉双语); kept apart from ``schema/mutation.py``, which includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import village
from schema.info import Info
from schema.village import HomeVisitPayload, RecordHomeVisitInput


@strawberry.type
class VillageMutation:
    @strawberry.mutation(
        description="上门办理: an agent of the station records a visit for a case it received "
        "in that mode; it counts in the ledger (refused for a case in another mode)",
        permission_classes=[IsAuthenticated],
    )
    async def record_home_visit(self, info: Info, input: RecordHomeVisitInput) -> HomeVisitPayload:
        return await village.record_home_visit(info, input)
