"""Resolvers of the identity operations: thin — parse, call ``auth/``, wrap."""

from __future__ import annotations

from starlette.responses import Response

from auth import handoff, sessions
from auth.connection import client_ip
from auth.enums import AccountKind
from auth.errors import AuthErrorCode
from auth.models import Account, ServiceClient
from auth.policy import Action, Resource, Target, require
from levels.common.errors import DomainError
from schema.identity import (
    ApproveHandoffInput,
    ApproveHandoffPayload,
    CompleteHandoffInput,
    Handoff,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    RefreshInput,
    StartHandoffInput,
    StartHandoffPayload,
    ViewerType,
)
from schema.info import Info
from schema.payloads import user_errors

_SIGN_IN = Target(Resource.SESSION)


async def me(info: Info) -> ViewerType | None:
    viewer = info.context.viewer
    if not viewer.authenticated:
        return None
    identity = info.context.identity
    async with identity.store.sessions() as session:
        if viewer.kind is AccountKind.SERVICE:
            client = await session.get(ServiceClient, viewer.subject)
            return ViewerType.of_client(viewer, client) if client else None
        account = await session.get(Account, viewer.subject)
        return ViewerType.of(viewer, account) if account else None


async def login(info: Info, input: LoginInput) -> LoginPayload:
    ctx = info.context
    require(ctx.viewer, Action.SIGN_IN, _SIGN_IN)
    ip = client_ip(ctx.request)
    try:
        signed_in = await sessions.login(
            ctx.identity,
            username=input.username,
            password=input.password,
            channel=input.channel,
            ip=ip,
        )
    except DomainError as e:
        if e.code is AuthErrorCode.RATE_LIMITED and isinstance(ctx.response, Response):
            retry = await ctx.identity.throttle.retry_after(input.username, ip)
            ctx.response.headers["Retry-After"] = str(retry)
        return LoginPayload(errors=user_errors(e, ctx.locale))
    return LoginPayload.of(signed_in)


async def refresh_session(info: Info, input: RefreshInput) -> LoginPayload:
    ctx = info.context
    require(ctx.viewer, Action.SIGN_IN, _SIGN_IN)
    try:
        signed_in = await sessions.refresh_session(ctx.identity, refresh_token=input.refresh_token)
    except DomainError as e:
        return LoginPayload(errors=user_errors(e, ctx.locale))
    return LoginPayload.of(signed_in)


async def logout(info: Info) -> LogoutPayload:
    ctx = info.context
    require(ctx.viewer, Action.LOGOUT, Target(Resource.SESSION, owner=ctx.viewer.subject))
    return LogoutPayload(revoked=await sessions.logout(ctx.identity, ctx.viewer))


async def start_handoff(info: Info, input: StartHandoffInput) -> StartHandoffPayload:
    ctx = info.context
    require(ctx.viewer, Action.SIGN_IN, _SIGN_IN)
    try:
        started = await handoff.start_handoff(
            ctx.identity, channel=input.channel, ip=client_ip(ctx.request)
        )
    except DomainError as e:
        return StartHandoffPayload(errors=user_errors(e, ctx.locale))
    return StartHandoffPayload(handoff=Handoff.of(started, ctx.clock.now()))


async def approve_handoff(info: Info, input: ApproveHandoffInput) -> ApproveHandoffPayload:
    ctx = info.context
    target = Target(Resource.SESSION, owner=ctx.viewer.subject)
    require(ctx.viewer, Action.APPROVE_HANDOFF, target)
    try:
        row = await handoff.approve_handoff(ctx.identity, ctx.viewer, user_code=input.user_code)
    except DomainError as e:
        return ApproveHandoffPayload(errors=user_errors(e, ctx.locale))
    return ApproveHandoffPayload(approved=True, channel=row.channel)


async def complete_handoff(info: Info, input: CompleteHandoffInput) -> LoginPayload:
    ctx = info.context
    require(ctx.viewer, Action.SIGN_IN, _SIGN_IN)
    try:
        signed_in = await handoff.complete_handoff(
            ctx.identity, device_code=input.device_code, ip=client_ip(ctx.request)
        )
    except DomainError as e:
        return LoginPayload(errors=user_errors(e, ctx.locale))
    return LoginPayload.of(signed_in)
