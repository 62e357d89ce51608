"""``Identity``: the identity layer of one hub process — its store, key ring, session
denylist and throttle — built by ``create_app`` and closed in its lifespan."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import select

from auth.keys import KeyRing
from auth.kv import KeyValue, RedisSettings, key_value_for, rate_limit_storage
from auth.models import AuthSession
from auth.throttle import Throttle
from auth.tokens import InvalidToken, IssuedToken, decode_access_token, issue_access_token
from auth.viewer import Viewer
from levels.common.clock import Clock
from levels.common.store import Store

AUDIENCE = "govhub"


class IdentitySettings(RedisSettings, Protocol):
    """What the identity layer reads of the hub's settings (``gateway.settings.Settings``
    is one): the secret, the issuer, token and session lifetimes, lockout and throttle."""

    @property
    def issuer(self) -> str: ...

    @property
    def token_endpoint(self) -> str: ...

    @property
    def access_token_seconds(self) -> int: ...

    @property
    def session_idle_seconds(self) -> int: ...

    @property
    def kiosk_idle_seconds(self) -> int: ...

    @property
    def session_absolute_seconds(self) -> int: ...

    @property
    def handoff_seconds(self) -> int: ...

    @property
    def handoffs_per_minute(self) -> int: ...

    @property
    def login_failures_per_minute(self) -> int: ...

    @property
    def login_attempts_per_minute_per_ip(self) -> int: ...

    @property
    def lockout_failures(self) -> int: ...

    @property
    def lockout_seconds(self) -> int: ...

    @property
    def assertion_max_seconds(self) -> int: ...

    def identity_secret(self) -> bytes: ...


class Identity:
    def __init__(self, settings: IdentitySettings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.secret = settings.identity_secret()
        self.keys = KeyRing(store, secret=self.secret, clock=clock)
        self.kv: KeyValue = key_value_for(settings)
        self.throttle = Throttle(
            rate_limit_storage(settings),
            login_failures_per_minute=settings.login_failures_per_minute,
            login_attempts_per_minute_per_ip=settings.login_attempts_per_minute_per_ip,
            handoffs_per_minute=settings.handoffs_per_minute,
        )

    @property
    def access_ttl(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.access_token_seconds)

    async def issue(self, viewer: Viewer, *, not_after: dt.datetime | None = None) -> IssuedToken:
        return await issue_access_token(
            viewer,
            keys=self.keys,
            issuer=self.settings.issuer,
            audience=AUDIENCE,
            now=self.clock.now(),
            ttl=self.access_ttl,
            not_after=not_after,
        )

    async def authenticate(self, token: str) -> Viewer:
        """The viewer of a bearer token; ``InvalidToken`` when it is not acceptable,
        including when its session was revoked."""
        viewer = await self.decode(token)
        if viewer.session_id and await self.revoked(viewer.session_id):
            raise InvalidToken("session revoked")
        return viewer

    async def decode(self, token: str) -> Viewer:
        """The viewer of a bearer token, its signature, issuer, audience and lifetime
        checked; ``InvalidToken`` otherwise. The denylist is not asked (``revoked``)."""
        return await decode_access_token(
            token,
            keys=self.keys,
            issuer=self.settings.issuer,
            audience=AUDIENCE,
            now=self.clock.now(),
        )

    async def revoked(self, session_id: str) -> bool:
        """The session is on the denylist."""
        return bool(await self.kv.get(denylist_key(session_id)))

    async def deny(self, session_id: str) -> None:
        """Refuse the session's access tokens from now on, in every process."""
        ttl = self.settings.access_token_seconds + 60
        await self.kv.set(denylist_key(session_id), "1", ttl)

    async def warm_denylist(self) -> None:
        """Re-deny sessions revoked within one access-token lifetime (the in-process
        denylist starts empty after a restart)."""
        since = self.clock.now() - self.access_ttl
        async with self.store.sessions() as session:
            revoked = await session.scalars(
                select(AuthSession.id).where(AuthSession.revoked_at > since)
            )
            for session_id in revoked:
                await self.deny(session_id)

    async def close(self) -> None:
        await self.kv.close()


def denylist_key(session_id: str) -> str:
    """Where the denylist marks a revoked session (shared by every hub process)."""
    return f"revoked-session:{session_id}"
