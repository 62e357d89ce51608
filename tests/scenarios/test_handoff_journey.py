"""一次认证、多点互联、无缝切换: a resident signed in on the phone carries on at a hall
kiosk without typing a password there — over HTTP, as the two devices would."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import bearer, me, own_hub, signed_in
from tests.conftest import GraphQLClient

START = """
mutation Start($channel: Channel!) {
  startHandoff(input: {channel: $channel}) {
    handoff { userCode deviceCode channel expiresIn expiresAt verificationUri
              verificationUriComplete qrSvg qrPng }
    errors { code }
  }
}
"""
APPROVE = """
mutation Approve($code: String!) {
  approveHandoff(input: {userCode: $code}) { approved channel errors { code field } }
}
"""
COMPLETE = """
mutation Complete($device: String!) {
  completeHandoff(input: {deviceCode: $device}) {
    accessToken refreshToken viewer { id kind channel sessionId } errors { code }
  }
}
"""


async def start(gql: GraphQLClient, channel: str = "KIOSK") -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(START, {"channel": channel}))["data"]["startHandoff"]
    return payload


async def approve(gql: GraphQLClient, token: str, code: str) -> dict[str, Any]:
    body = await gql(APPROVE, {"code": code}, **bearer(token))
    payload: dict[str, Any] = body["data"]["approveHandoff"]
    return payload


async def complete(gql: GraphQLClient, device_code: str) -> dict[str, Any]:
    body = await gql(COMPLETE, {"device": device_code})
    payload: dict[str, Any] = body["data"]["completeHandoff"]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_phone_to_kiosk(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes) as kiosk, own_hub(settings, nodes) as phone:
        # the kiosk, nobody signed in, shows a code and its QR code
        started = await start(kiosk.gql)
        handoff = started["handoff"]
        assert started["errors"] == [] and handoff["channel"] == "KIOSK"
        assert 0 < handoff["expiresIn"] <= 300
        assert handoff["verificationUriComplete"].endswith(handoff["userCode"])
        assert handoff["qrSvg"].startswith("<svg")
        assert handoff["qrPng"].startswith("data:image/png;base64,")
        png = base64.b64decode(handoff["qrPng"].split(",", 1)[1])
        assert png.startswith(b"\x89PNG")
        # polling before the person approves: not yet
        assert _codes(await complete(kiosk.gql, handoff["deviceCode"])) == ["HANDOFF_PENDING"]

        # the resident, signed in on the phone, types (or scans) the code
        mobile = await signed_in(phone.gql, "resident1", "MOBILE")
        code = handoff["userCode"].lower().replace("-", " ")  # forgiving about case
        approved = await approve(phone.gql, mobile["accessToken"], code)
        assert approved == {"approved": True, "channel": "KIOSK", "errors": []}

        # the kiosk now has a session of its own for the same person
        done = await complete(kiosk.gql, handoff["deviceCode"])
        assert done["errors"] == []
        assert done["viewer"]["id"] == mobile["viewer"]["id"]
        assert done["viewer"]["channel"] == "KIOSK"
        assert done["viewer"]["sessionId"] != mobile["viewer"]["sessionId"]
        viewer = (await me(kiosk.gql, done["accessToken"])).json()["data"]["me"]
        assert viewer["username"] == "resident1" and viewer["channel"] == "KIOSK"
        # and the phone carries on too
        assert (await me(phone.gql, mobile["accessToken"])).status_code == 200

        # single use: neither code works again
        assert _codes(await complete(kiosk.gql, handoff["deviceCode"])) == ["INVALID_HANDOFF_CODE"]
        again = await approve(phone.gql, mobile["accessToken"], handoff["userCode"])
        assert _codes(again) == ["INVALID_HANDOFF_CODE"]


async def test_approval_must_come_from_another_channel(gql: GraphQLClient) -> None:
    handoff = (await start(gql, "KIOSK"))["handoff"]
    kiosk_login = await signed_in(gql, "resident2", "KIOSK")
    denied = await approve(gql, kiosk_login["accessToken"], handoff["userCode"])
    assert _codes(denied) == ["HANDOFF_SAME_CHANNEL"] and denied["approved"] is False


async def test_approval_needs_a_signed_in_person(gql: GraphQLClient) -> None:
    handoff = (await start(gql))["handoff"]
    body = await gql(APPROVE, {"code": handoff["userCode"]})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_codes_expire_within_five_minutes(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes) as hub:
        handoff = (await start(hub.gql, "COUNTER"))["handoff"]
        mobile = await signed_in(hub.gql, "resident3", "MOBILE")
        hub.clock.advance(dt.timedelta(seconds=301))
        assert _codes(await approve(hub.gql, mobile["accessToken"], handoff["userCode"])) == [
            "HANDOFF_EXPIRED"
        ]
        assert _codes(await complete(hub.gql, handoff["deviceCode"])) == ["HANDOFF_EXPIRED"]


async def test_unknown_codes_are_refused(gql: GraphQLClient) -> None:
    mobile = await signed_in(gql, "resident4", "MOBILE")
    refused = await approve(gql, mobile["accessToken"], "BCDF-GHJK")
    assert _codes(refused) == ["INVALID_HANDOFF_CODE"]
    assert refused["errors"][0]["field"] == ["userCode"]
    assert _codes(await complete(gql, "not-a-device-code")) == ["INVALID_HANDOFF_CODE"]


async def test_starting_is_rate_limited_per_address(gql: GraphQLClient, settings: Settings) -> None:
    limit = settings.handoffs_per_minute
    results = [await start(gql) for _ in range(limit + 2)]
    codes = [_codes(r) for r in results]
    assert codes[:limit] == [[]] * limit
    assert codes[-1] == ["RATE_LIMITED"] and results[-1]["handoff"] is None


async def test_machine_channels_cannot_start_a_handoff(gql: GraphQLClient) -> None:
    assert _codes(await start(gql, "SYSTEM")) == ["INVALID_CHANNEL"]
