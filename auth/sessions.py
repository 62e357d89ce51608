"""Sign-in sessions: login, refresh rotation with reuse detection, logout.

A session is one sign-in on one channel and the family of its refresh tokens. Each
refresh token works once and is replaced; a token presented a second time means it
leaked, and the whole family is revoked. Sessions end after an idle time (shorter on
a public kiosk) and after an absolute lifetime, whatever happens."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import case, literal, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.accounts import account_by_username
from auth.enums import LOGIN_CHANNELS, AccountKind, Channel, Role
from auth.errors import AuthErrorCode
from auth.identity import Identity
from auth.models import Account, AuthSession, RefreshToken
from auth.passwords import hash_password, needs_rehash, verify_password
from auth.tokens import IssuedToken, new_opaque_token, token_hash
from auth.viewer import Viewer
from levels.common.errors import DomainError
from levels.common.models import AwareDateTime


@dataclass(frozen=True)
class SignIn:
    access: IssuedToken
    refresh_token: str
    viewer: Viewer
    account: Account


def viewer_of(account: Account, *, session_id: str | None, channel: Channel) -> Viewer:
    staff = account.kind is AccountKind.STAFF
    return Viewer(
        kind=account.kind,
        subject=account.id,
        session_id=session_id,
        channel=channel,
        roles=frozenset(Role(r) for r in account.roles) if staff else frozenset(),
        jurisdiction=account.division_code,
        org_code=account.org_code,
        org_level=account.org_level,
        department_id=account.department_id,
        credit_code=account.credit_code,
    )


def idle_limit(identity: Identity, channel: Channel) -> dt.timedelta:
    s = identity.settings
    return dt.timedelta(
        seconds=s.kiosk_idle_seconds if channel is Channel.KIOSK else s.session_idle_seconds
    )


def _locked(account: Account, now: dt.datetime) -> bool:
    return account.disabled or (account.locked_until is not None and account.locked_until > now)


async def open_session(
    identity: Identity,
    account: Account,
    *,
    session: AsyncSession,
    channel: Channel,
    ip: str | None,
    parent_id: str | None = None,
) -> tuple[AuthSession, str]:
    """A new session row and its first refresh token (added to ``session``)."""
    now = identity.clock.now()
    row = AuthSession(
        id=secrets.token_hex(16),
        account_id=account.id,
        channel=channel,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(seconds=identity.settings.session_absolute_seconds),
        parent_id=parent_id,
        ip=ip,
    )
    refresh, refresh_hash = new_opaque_token()
    session.add(row)
    session.add(RefreshToken(token_hash=refresh_hash, session_id=row.id, issued_at=now))
    return row, refresh


async def sign_in(identity: Identity, account: Account, row: AuthSession, refresh: str) -> SignIn:
    viewer = viewer_of(account, session_id=row.id, channel=row.channel)
    access = await identity.issue(viewer, not_after=row.expires_at)
    return SignIn(access, refresh, viewer, account)


async def login(
    identity: Identity, *, username: str, password: str, channel: Channel, ip: str
) -> SignIn:
    if channel not in LOGIN_CHANNELS:
        raise DomainError(AuthErrorCode.INVALID_CHANNEL, field=["channel"])
    # counted before the password is checked: attempts at the same time cannot all
    # pass a budget none of them has used yet
    if not await identity.throttle.login_attempt(username, ip):
        raise DomainError(AuthErrorCode.RATE_LIMITED)
    async with identity.store.sessions() as session:
        now = identity.clock.now()
        # no account has a control character in its name (a NUL would not even reach
        # PostgreSQL): such a name signs in as nobody, after the same password check
        known = username.isprintable()
        account = await account_by_username(username, session=session) if known else None
        # argon2 takes tens of milliseconds on purpose: off the event loop, so other
        # requests go on meanwhile (argon2-cffi releases the GIL while it hashes)
        stored = account.password_hash if account else None
        if not await asyncio.to_thread(verify_password, stored, password):
            if account is not None:
                await _count_failure(identity, session, account.id, now)
                await session.commit()
            raise DomainError(AuthErrorCode.INVALID_CREDENTIALS)
        assert account is not None
        # whoever knows the password is no longer guessing it
        await identity.throttle.login_succeeded(username)
        if _locked(account, now):
            # said only to whoever knows the password
            raise DomainError(AuthErrorCode.ACCOUNT_LOCKED)
        account.failed_logins = 0
        account.locked_until = None
        if needs_rehash(account.password_hash):
            account.password_hash = await asyncio.to_thread(hash_password, password)
        row, refresh = await open_session(
            identity, account, session=session, channel=channel, ip=ip
        )
        await session.commit()
    return await sign_in(identity, account, row, refresh)


async def _count_failure(
    identity: Identity, session: AsyncSession, account_id: str, now: dt.datetime
) -> None:
    """One more failure in a row, and the lock when it is the last one allowed: one
    UPDATE, so failures at the same time each count (no read-modify-write to lose)."""
    settings = identity.settings
    reached = Account.failed_logins + 1 >= settings.lockout_failures
    until = now + dt.timedelta(seconds=settings.lockout_seconds)
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            failed_logins=case((reached, 0), else_=Account.failed_logins + 1),
            locked_until=case(
                (reached, literal(until, AwareDateTime())), else_=Account.locked_until
            ),
        )
        .execution_options(synchronize_session=False)
    )


async def refresh_session(identity: Identity, *, refresh_token: str) -> SignIn:
    async with identity.store.sessions() as session:
        now = identity.clock.now()
        token = await session.get(RefreshToken, token_hash(refresh_token), with_for_update=True)
        if token is None:
            raise DomainError(AuthErrorCode.INVALID_REFRESH_TOKEN, field=["refreshToken"])
        row = await session.get(AuthSession, token.session_id, with_for_update=True)
        assert row is not None
        # exactly one caller may use a token, even two at the same instant
        used = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token.token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            await _revoke(identity, session, row, now, reason="refresh-reuse")
            await session.commit()
            raise DomainError(AuthErrorCode.REFRESH_TOKEN_REUSED, field=["refreshToken"])
        account = await session.get(Account, row.account_id)
        assert account is not None
        if (
            row.revoked_at is not None
            or now >= row.expires_at
            or now - row.last_seen_at > idle_limit(identity, row.channel)
            or _locked(account, now)
        ):
            await session.rollback()
            raise DomainError(AuthErrorCode.SESSION_EXPIRED, field=["refreshToken"])
        row.last_seen_at = now
        refresh, refresh_hash = new_opaque_token()
        session.add(RefreshToken(token_hash=refresh_hash, session_id=row.id, issued_at=now))
        await session.commit()
    return await sign_in(identity, account, row, refresh)


async def _revoke(
    identity: Identity, session: AsyncSession, row: AuthSession, now: dt.datetime, reason: str
) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_reason = reason
    await identity.deny(row.id)


async def logout(identity: Identity, viewer: Viewer) -> bool:
    """End the viewer's session at once: its access tokens are refused on the next
    request and its refresh tokens no longer work."""
    if viewer.session_id is None:
        return False
    async with identity.store.sessions() as session:
        row = await session.get(AuthSession, viewer.session_id, with_for_update=True)
        if row is None:
            return False
        await _revoke(identity, session, row, identity.clock.now(), reason="logout")
        await session.commit()
    return True
