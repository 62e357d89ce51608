"""``Identity``: the identity layer of one hub process — its store, key ring, session
denylist and throttle — built by ``create_app`` and closed in its lifespan."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.keys import KeyRing
from auth.models import AuthSession
from auth.throttle import Throttle
from auth.tokens import InvalidToken, IssuedToken, decode_access_token, issue_access_token
from auth.viewer import Viewer
from gateway.kv import KeyValue, key_value_for, rate_limit_storage
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.common.store import Store

AUDIENCE = "govhub"


class Identity:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
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
        viewer = await decode_access_token(
            token,
            keys=self.keys,
            issuer=self.settings.issuer,
            audience=AUDIENCE,
            now=self.clock.now(),
        )
        if viewer.session_id and await self.kv.get(denylist_key(viewer.session_id)):
            raise InvalidToken("session revoked")
        return viewer

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
