"""Signing in and staying signed in: login on every channel, refresh rotation with
reuse detection, logout, idle and absolute lifetimes, throttling and lockout."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from auth.enums import AccountKind
from auth.models import Account
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import (
    LOGIN,
    LOGOUT,
    PASSWORD,
    REFRESH,
    NewAccount,
    bearer,
    login,
    me,
    own_hub,
    signed_in,
)
from tests.conftest import GraphQLClient


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    body = await gql(REFRESH, {"token": token})
    payload: dict[str, Any] = body["data"]["refreshSession"]
    return payload


@pytest.mark.parametrize("channel", ["WEB", "MOBILE", "KIOSK", "COUNTER"])
async def test_one_account_signs_in_on_every_channel(gql: GraphQLClient, channel: str) -> None:
    payload = await signed_in(gql, "resident1", channel)
    viewer = payload["viewer"]
    assert viewer["kind"] == "PERSON" and viewer["channel"] == channel
    assert payload["tokenType"] == "Bearer" and payload["refreshToken"]
    body = (await me(gql, payload["accessToken"])).json()["data"]["me"]
    assert body["username"] == "resident1" and body["channel"] == channel
    assert body["sessionId"] == viewer["sessionId"]


async def test_me_shows_a_resident_id_number_masked_only(gql: GraphQLClient) -> None:
    payload = await signed_in(gql, "resident1")
    viewer = (await me(gql, payload["accessToken"])).json()["data"]["me"]
    masked = viewer["idNumberMasked"]
    assert masked.startswith("1407") and masked[4:14] == "*" * 10 and len(masked) == 18
    assert viewer["displayName"] == "张明"


async def test_me_shows_staff_their_org_and_roles(gql: GraphQLClient) -> None:
    payload = await signed_in(gql, "xiuwen.director", "COUNTER")
    viewer = (await me(gql, payload["accessToken"])).json()["data"]["me"]
    assert viewer["kind"] == "STAFF" and viewer["roles"] == ["DIRECTOR"]
    assert viewer["jurisdictionCode"] == "140702101000"
    assert viewer["jurisdiction"]["name"] == "修文镇" and "修文镇" in viewer["org"]["name"]


async def test_me_is_null_for_nobody(gql: GraphQLClient) -> None:
    assert (await gql("{ me { id } }")) == {"data": {"me": None}}


async def test_wrong_password_and_unknown_user_say_the_same(gql: GraphQLClient) -> None:
    wrong = await login(gql, "resident3", password="not-the-password")
    unknown = await login(gql, "nobody-at-all-1", password="not-the-password")
    assert wrong == unknown
    assert _codes(wrong) == ["INVALID_CREDENTIALS"] and wrong["accessToken"] is None


async def test_a_name_with_a_control_character_is_nobody_not_a_database_error(
    gql: GraphQLClient,
) -> None:
    """A NUL in a username reaches no store (PostgreSQL refuses it in text): the sign-in
    says what an unknown name says."""
    for name in ("a\x00b", "resident3\x00", "tab\there"):
        refused = await login(gql, name, password="not-the-password")
        assert _codes(refused) == ["INVALID_CREDENTIALS"] and refused["accessToken"] is None


@pytest.mark.parametrize("channel", ["PROXY", "MAIL", "SYSTEM"])
async def test_case_channels_are_not_sign_in_channels(gql: GraphQLClient, channel: str) -> None:
    payload = await login(gql, "resident1", channel=channel)
    assert _codes(payload) == ["INVALID_CHANNEL"]
    assert payload["errors"][0]["field"] == ["channel"]


async def test_messages_follow_the_accept_language(gql: GraphQLClient) -> None:
    variables = {"username": "nobody-zh", "password": "wrong-password", "channel": "WEB"}
    zh = (await gql(LOGIN, variables))["data"]["login"]["errors"][0]["message"]
    variables["username"] = "nobody-en"
    en = (await gql(LOGIN, variables, **{"accept-language": "en"}))["data"]["login"]
    assert zh == "用户名或密码错误"
    assert en["errors"][0]["message"] == "Wrong username or password"


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(gql: GraphQLClient) -> None:
    first = await signed_in(gql, "resident2", "MOBILE")
    second = await refresh(gql, first["refreshToken"])
    assert second["errors"] == [] and second["refreshToken"] != first["refreshToken"]
    assert second["viewer"]["sessionId"] == first["viewer"]["sessionId"]
    assert (await me(gql, second["accessToken"])).status_code == 200
    # the first refresh token again: someone else has it; the whole family ends
    replay = await refresh(gql, first["refreshToken"])
    assert _codes(replay) == ["REFRESH_TOKEN_REUSED"] and replay["accessToken"] is None
    assert _codes(await refresh(gql, second["refreshToken"])) == ["SESSION_EXPIRED"]
    for token in (first["accessToken"], second["accessToken"]):
        assert (await me(gql, token)).status_code == 401


async def test_an_unknown_refresh_token_is_refused(gql: GraphQLClient) -> None:
    assert _codes(await refresh(gql, "made-up")) == ["INVALID_REFRESH_TOKEN"]


async def test_logout_is_effective_on_the_next_request(gql: GraphQLClient) -> None:
    payload = await signed_in(gql, "resident3", "WEB")
    token = payload["accessToken"]
    other = await signed_in(gql, "resident3", "MOBILE")
    body = await gql(LOGOUT, **bearer(token))
    assert body["data"]["logout"] == {"revoked": True, "errors": []}
    assert (await me(gql, token)).status_code == 401
    assert _codes(await refresh(gql, payload["refreshToken"])) == ["SESSION_EXPIRED"]
    # only that session: the same person's session on another channel carries on
    assert (await me(gql, other["accessToken"])).status_code == 200


async def test_logout_needs_a_session(gql: GraphQLClient) -> None:
    body = await gql(LOGOUT)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_survives_a_restart(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes) as hub:
        payload = await signed_in(hub.gql, "resident4")
        await hub.gql(LOGOUT, **bearer(payload["accessToken"]))
    # a new process (empty in-process denylist) re-reads recent revocations at start
    async with own_hub(settings, nodes) as restarted:
        await restarted.app.state.identity.warm_denylist()
        assert (await me(restarted.gql, payload["accessToken"])).status_code == 401


async def test_kiosk_sessions_end_after_a_short_idle_time(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(settings, nodes) as hub:
        kiosk = await signed_in(hub.gql, "resident1", "KIOSK")
        web = await signed_in(hub.gql, "resident1", "WEB")
        hub.clock.advance(dt.timedelta(seconds=settings.kiosk_idle_seconds + 1))
        assert _codes(await refresh(hub.gql, kiosk["refreshToken"])) == ["SESSION_EXPIRED"]
        assert (await refresh(hub.gql, web["refreshToken"]))["errors"] == []


async def test_a_session_ends_at_its_absolute_lifetime(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(
        settings, nodes, session_absolute_seconds=600, access_token_seconds=900
    ) as hub:
        payload = await signed_in(hub.gql, "resident2")
        # the access token never outlives its session
        assert payload["expiresIn"] == 600
        token = payload["refreshToken"]
        for _ in range(2):
            hub.clock.advance(dt.timedelta(seconds=250))
            renewed = await refresh(hub.gql, token)
            assert renewed["errors"] == [] and renewed["expiresIn"] <= 350
            token = renewed["refreshToken"]
        hub.clock.advance(dt.timedelta(seconds=101))
        assert _codes(await refresh(hub.gql, token)) == ["SESSION_EXPIRED"]


async def test_five_failures_per_minute_per_account(
    gql: GraphQLClient, new_account: NewAccount
) -> None:
    username = await new_account()
    for _ in range(5):
        assert _codes(await login(gql, username, password="wrong-password")) == [
            "INVALID_CREDENTIALS"
        ]
    response = await gql.post(LOGIN, {"username": username, "password": PASSWORD, "channel": "WEB"})
    assert _codes(response.json()["data"]["login"]) == ["RATE_LIMITED"]
    # the window opened with the first failure moments ago: about a minute to wait
    assert 45 <= int(response.headers["retry-after"]) <= 61


async def test_aliases_count_as_separate_attempts(
    gql: GraphQLClient, new_account: NewAccount
) -> None:
    username = await new_account()
    fields = "\n".join(
        f'a{i}: login(input: {{username: "{username}", password: "guess-{i}-xxxx", '
        f"channel: WEB}}) {{ errors {{ code }} }}"
        for i in range(10)  # the most root fields one operation may have
    )
    data = (await gql(f"mutation {{ {fields} }}"))["data"]
    codes = [data[f"a{i}"]["errors"][0]["code"] for i in range(10)]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"] * 5


async def test_failures_at_one_address_do_not_block_its_other_accounts(
    gql: GraphQLClient, new_account: NewAccount
) -> None:
    for _ in range(6):
        await login(gql, await new_account(), password="wrong-password")
    # another account from the same address (a hall's kiosks share one), right password
    assert _codes(await login(gql, await new_account(), password=PASSWORD)) == []


async def test_an_account_locks_after_repeated_failures(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount
) -> None:
    username = await new_account(AccountKind.STAFF)
    async with own_hub(settings, nodes, lockout_failures=3, lockout_seconds=600) as hub:
        for _ in range(3):
            assert _codes(await login(hub.gql, username, password="bad-password")) == [
                "INVALID_CREDENTIALS"
            ]
        # the right password now: locked (and only someone who knows it learns so)
        assert _codes(await login(hub.gql, username, password=PASSWORD)) == ["ACCOUNT_LOCKED"]
        assert _codes(await login(hub.gql, username, password="bad-password")) == [
            "INVALID_CREDENTIALS"
        ]
        hub.clock.advance(dt.timedelta(seconds=601))
        # the per-minute throttle is on the real clock; ask from another address
        async with own_hub(settings, nodes, lockout_failures=3) as later:
            later.clock.advance(dt.timedelta(seconds=601))
            assert (await login(later.gql, username, password=PASSWORD))["errors"] == []
    async with nodes.identity.sessions() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
        assert account is not None and account.failed_logins == 0
