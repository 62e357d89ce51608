"""Helpers of the identity tests: sign in over HTTP, make fresh accounts, and run a
hub of its own with a clock the test can move."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from stdnum.cn import ric

from auth.accounts import AccountDraft, add_account
from auth.enums import AccountKind, Role
from gateway.app import create_app
from gateway.demo.accounts import DEMO_PASSWORD
from gateway.demo.plan import org_code_for
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.codes import parse_division
from levels.common.enums import Level
from tests.conftest import DEMO_NOW, GraphQLClient, client_transport

PASSWORD = "correct-horse-battery"
YUCI = "140702000000"  # 榆次区

LOGIN = """
mutation Login($username: String!, $password: String!, $channel: Channel!) {
  login(input: {username: $username, password: $password, channel: $channel}) {
    accessToken refreshToken expiresIn tokenType
    viewer { id kind username channel sessionId roles jurisdictionCode idNumberMasked }
    errors { code field message }
  }
}
"""

REFRESH = """
mutation Refresh($token: String!) {
  refreshSession(input: {refreshToken: $token}) {
    accessToken refreshToken expiresIn viewer { id sessionId channel }
    errors { code field }
  }
}
"""

LOGOUT = "mutation { logout { revoked errors { code } } }"

ME = """
{ me { id kind username displayName channel sessionId roles scopes jurisdictionCode
       idNumberMasked creditCode orgCode jurisdiction { name } org { name } } }
"""


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def login(
    gql: GraphQLClient,
    username: str,
    *,
    channel: str = "WEB",
    password: str = DEMO_PASSWORD,
) -> dict[str, Any]:
    body = await gql(LOGIN, {"username": username, "password": password, "channel": channel})
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def signed_in(gql: GraphQLClient, username: str, channel: str = "WEB") -> dict[str, Any]:
    payload = await login(gql, username, channel=channel)
    assert payload["errors"] == [], payload
    return payload


async def me(gql: GraphQLClient, token: str) -> httpx.Response:
    return await gql.post(ME, **bearer(token))


_names = itertools.count(1)
NewAccount = Callable[..., Awaitable[str]]


@pytest.fixture
def new_account(nodes: NodeRegistry, settings: Settings) -> NewAccount:
    """Make a fresh account (PERSON unless told) with password PASSWORD; its failed
    logins and lockouts concern this test alone."""

    async def make(kind: AccountKind = AccountKind.PERSON, **fields: Any) -> str:
        username = f"test-{kind.value.lower()}-{next(_names)}"
        defaults: dict[str, Any] = {
            AccountKind.PERSON: {"id_number": _id_number()},
            AccountKind.STAFF: {
                "org_code": org_code_for(parse_division(YUCI)),
                "org_level": Level.COUNTY,
                "division_code": YUCI,
                "roles": frozenset({Role.REVIEWER}),
            },
        }.get(kind, {})
        draft = AccountDraft(
            username=username,
            kind=kind,
            display_name=username,
            password=PASSWORD,
            **{**defaults, **fields},
        )
        async with nodes.identity.sessions.begin() as session:
            await add_account(
                draft, session=session, secret=settings.identity_secret(), now=DEMO_NOW
            )
        return username

    return make


_serials = itertools.count(200)


def _id_number() -> str:
    stem = f"14070220050101{next(_serials):03d}"
    return stem + ric.calc_check_digit(stem + "0")


@dataclass
class OwnHub:
    """A hub on the shared stores with its own clock (and settings)."""

    app: Any
    clock: FixedClock
    gql: GraphQLClient


@asynccontextmanager
async def own_hub(
    settings: Settings, nodes: NodeRegistry, **overrides: Any
) -> AsyncIterator[OwnHub]:
    clock = FixedClock(DEMO_NOW)
    app = create_app(settings.model_copy(update=overrides), nodes=nodes, clock=clock)
    async with httpx.AsyncClient(
        transport=client_transport(app), base_url="http://govhub.test"
    ) as http:
        yield OwnHub(app, clock, GraphQLClient(http))
    await app.state.broker.close()
    await app.state.identity.close()
