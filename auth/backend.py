"""Authentication in middleware: the bearer token of a GraphQL request is decoded once,
here; resolvers read the result as ``info.context.viewer``.

No ``Authorization`` header: the anonymous viewer. A header that does not carry an
acceptable access token (malformed, forged, expired, revoked, a refresh token...):
401 with a GraphQL error ``UNAUTHENTICATED`` and no hint of what was wrong."""

from __future__ import annotations

import logging

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from auth.connection import locale_of
from auth.errors import AuthErrorCode
from auth.identity import Identity
from auth.tokens import InvalidToken
from auth.viewer import ANONYMOUS, Viewer
from levels.common.errors import message_for

log = logging.getLogger("govhub.auth")


class ViewerUser(BaseUser):
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer

    @property
    def is_authenticated(self) -> bool:
        return self.viewer.authenticated

    @property
    def display_name(self) -> str:
        return self.viewer.subject

    @property
    def identity(self) -> str:
        return self.viewer.subject


class TokenBackend(AuthenticationBackend):
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("not a bearer token")
        try:
            viewer = await self.identity.decode(token.strip())
            if await self.revoked(conn, viewer):
                raise InvalidToken("session revoked")
        except InvalidToken as e:
            log.info("bearer token refused: %s", e)
            raise AuthenticationError("invalid token") from None
        scopes = ["authenticated", *(s.value for s in viewer.scopes)]
        return AuthCredentials(scopes), ViewerUser(viewer)

    async def revoked(self, conn: HTTPConnection, viewer: Viewer) -> bool:
        """The viewer's session is on the denylist (a subclass may decide later, before
        the request runs)."""
        session_id = viewer.session_id
        return session_id is not None and await self.identity.revoked(session_id)


def on_auth_error(conn: HTTPConnection, _exc: AuthenticationError) -> Response:
    code = AuthErrorCode.UNAUTHENTICATED
    return JSONResponse(
        {
            "data": None,
            "errors": [
                {"message": message_for(code, locale_of(conn)), "extensions": {"code": code.value}}
            ],
        },
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def viewer_of(conn: HTTPConnection) -> Viewer:
    user = conn.scope.get("user")
    return user.viewer if isinstance(user, ViewerUser) else ANONYMOUS
