"""Cross-channel hand-off (一次认证、多点互联、无缝切换), in the manner of the OAuth
device flow (RFC 8628).

A kiosk or counter terminal starts a hand-off and shows a short user code (and a QR
code carrying it); the person, signed in on another channel (the mobile app),
approves it; the terminal redeems its secret device code for a session of its own for
that same person. Codes are single-use, expire within five minutes, and starting and
approving are rate-limited."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from auth.enums import HUMAN_KINDS, LOGIN_CHANNELS, Channel, HandoffStatus
from auth.errors import AuthErrorCode
from auth.identity import Identity
from auth.models import Account, Handoff
from auth.sessions import SignIn, open_session, sign_in
from auth.tokens import new_opaque_token, token_hash
from auth.viewer import Viewer
from levels.common.errors import DomainError

# no vowels (no words), no look-alikes (0/O, 1/I): 20^8 ≈ 2.6e10 codes
_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@dataclass(frozen=True)
class StartedHandoff:
    user_code: str
    device_code: str
    channel: Channel
    expires_at: dt.datetime
    verification_uri: str

    @property
    def verification_uri_complete(self) -> str:
        return f"{self.verification_uri}?code={self.user_code}"


def _new_user_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_user_code(value: str) -> str:
    raw = "".join(c for c in value.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


async def start_handoff(identity: Identity, *, channel: Channel, ip: str) -> StartedHandoff:
    if channel not in LOGIN_CHANNELS:
        raise DomainError(AuthErrorCode.INVALID_CHANNEL, field=["channel"])
    if not await identity.throttle.handoff("start", ip):
        raise DomainError(AuthErrorCode.RATE_LIMITED)
    now = identity.clock.now()
    expires_at = now + dt.timedelta(seconds=identity.settings.handoff_seconds)
    device_code, device_hash = new_opaque_token()
    async with identity.store.sessions.begin() as session:
        while True:
            user_code = _new_user_code()
            clash = await session.scalar(
                select(Handoff.id).where(
                    Handoff.user_code == user_code, Handoff.status == HandoffStatus.PENDING
                )
            )
            if clash is None:
                break
        session.add(
            Handoff(
                id=secrets.token_hex(16),
                user_code=user_code,
                device_code_hash=device_hash,
                channel=channel,
                status=HandoffStatus.PENDING,
                created_at=now,
                expires_at=expires_at,
            )
        )
    return StartedHandoff(
        user_code, device_code, channel, expires_at, f"{identity.settings.issuer}/handoff"
    )


async def approve_handoff(identity: Identity, viewer: Viewer, *, user_code: str) -> Handoff:
    """The signed-in person lends their identity to the waiting terminal."""
    if viewer.kind not in HUMAN_KINDS or viewer.session_id is None:
        raise DomainError(AuthErrorCode.FORBIDDEN)
    if not await identity.throttle.handoff("approve", viewer.subject):
        raise DomainError(AuthErrorCode.RATE_LIMITED)
    code = normalize_user_code(user_code)
    async with identity.store.sessions.begin() as session:
        now = identity.clock.now()
        row = await session.scalar(
            select(Handoff)
            .where(Handoff.user_code == code, Handoff.status == HandoffStatus.PENDING)
            .with_for_update()
        )
        if row is None:
            raise DomainError(AuthErrorCode.INVALID_HANDOFF_CODE, field=["userCode"])
        if row.expires_at <= now:
            raise DomainError(AuthErrorCode.HANDOFF_EXPIRED, field=["userCode"])
        if row.channel is viewer.channel:
            raise DomainError(AuthErrorCode.HANDOFF_SAME_CHANNEL, field=["userCode"])
        row.status = HandoffStatus.APPROVED
        row.account_id = viewer.subject
        row.approved_session_id = viewer.session_id
        row.approved_at = now
    return row


async def complete_handoff(identity: Identity, *, device_code: str, ip: str) -> SignIn:
    """The terminal redeems its device code, once, for its own session."""
    async with identity.store.sessions() as session:
        now = identity.clock.now()
        row = await session.scalar(
            select(Handoff)
            .where(Handoff.device_code_hash == token_hash(device_code))
            .with_for_update()
        )
        if row is None or row.status is HandoffStatus.COMPLETED:
            raise DomainError(AuthErrorCode.INVALID_HANDOFF_CODE, field=["deviceCode"])
        if row.expires_at <= now:
            raise DomainError(AuthErrorCode.HANDOFF_EXPIRED, field=["deviceCode"])
        if row.status is HandoffStatus.PENDING:
            raise DomainError(AuthErrorCode.HANDOFF_PENDING, field=["deviceCode"])
        account = await session.get(Account, row.account_id)
        assert account is not None
        row.status = HandoffStatus.COMPLETED
        row.completed_at = now
        auth_session, refresh = await open_session(
            identity,
            account,
            session=session,
            channel=row.channel,
            ip=ip,
            parent_id=row.approved_session_id,
        )
        await session.commit()
    return await sign_in(identity, account, auth_session, refresh)
