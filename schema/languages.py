"""Languages in the schema (003 "1个综合性藏汉双语咨询服务导办台"): what a window and its
staff serve in, set by the hall manager. Kept apart from ``schema/mutation.py``, which
includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import languages
from schema.info import Info
from schema.windows import WindowPayload


@strawberry.input(description="藏汉双语: the languages a window's desk serves in")
class SetWindowLanguagesInput:
    window_id: strawberry.ID = strawberry.field(description="The window")
    languages: list[str] = strawberry.field(description="Codes: zh, bo, ug, mn, ii, en")


@strawberry.input(description="The languages a staff member of the window's org speaks")
class SetStaffLanguagesInput:
    window_id: strawberry.ID = strawberry.field(description="A window of the staff's org")
    staff: str = strawberry.field(description="The staff member's username")
    languages: list[str] = strawberry.field(description="Codes: zh, bo, ug, mn, ii, en")


@strawberry.type
class LanguageMutation:
    @strawberry.mutation(
        description="藏汉双语: the languages a window's desk serves in (hall admin, director)",
        permission_classes=[IsAuthenticated],
    )
    async def set_window_languages(
        self, info: Info, input: SetWindowLanguagesInput
    ) -> WindowPayload:
        return await languages.set_window_languages(info, input)

    @strawberry.mutation(
        description="The languages a staff member speaks; every window naming them on a post "
        "serves in them too (hall admin, director)",
        permission_classes=[IsAuthenticated],
    )
    async def set_staff_languages(self, info: Info, input: SetStaffLanguagesInput) -> WindowPayload:
        return await languages.set_staff_languages(info, input)
