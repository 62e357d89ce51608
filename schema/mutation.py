"""The root Mutation. Field names are a contract (DESIGN §6): add, don't rename.

Every mutation takes one ``input`` and returns a payload with ``errors``; only auth
failures are top-level errors."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import identity
from schema.identity import (
    ApproveHandoffInput,
    ApproveHandoffPayload,
    CompleteHandoffInput,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    RefreshInput,
    StartHandoffInput,
    StartHandoffPayload,
)
from schema.info import Info


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sign in with username and password on a channel (WEB, MOBILE, KIOSK, "
        "COUNTER): a short-lived access token and a refresh token"
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        return await identity.login(info, input)

    @strawberry.mutation(
        description="Trade a refresh token (once) for a new access and refresh token; a "
        "refresh token used twice ends the whole session"
    )
    async def refresh_session(self, info: Info, input: RefreshInput) -> LoginPayload:
        return await identity.refresh_session(info, input)

    @strawberry.mutation(
        description="End the viewer's session now", permission_classes=[IsAuthenticated]
    )
    async def logout(self, info: Info) -> LogoutPayload:
        return await identity.logout(info)

    @strawberry.mutation(
        description="A kiosk or counter terminal asks to carry on as someone signed in "
        "elsewhere: a code and QR code to approve in the mobile app"
    )
    async def start_handoff(self, info: Info, input: StartHandoffInput) -> StartHandoffPayload:
        return await identity.start_handoff(info, input)

    @strawberry.mutation(
        description="The signed-in person lets the terminal showing this code carry on",
        permission_classes=[IsAuthenticated],
    )
    async def approve_handoff(
        self, info: Info, input: ApproveHandoffInput
    ) -> ApproveHandoffPayload:
        return await identity.approve_handoff(info, input)

    @strawberry.mutation(
        description="The terminal redeems its device code, once, for its own session"
    )
    async def complete_handoff(self, info: Info, input: CompleteHandoffInput) -> LoginPayload:
        return await identity.complete_handoff(info, input)
