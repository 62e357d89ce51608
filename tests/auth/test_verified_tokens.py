"""A token verified once is not parsed and verified again (auth/tokens.py ``_VERIFIED``),
yet every check that can change between two requests still runs each time: the key
still the ring's, the token's times against the hub's clock, the audience and issuer it
was verified for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auth import tokens
from auth.identity import AUDIENCE
from auth.tokens import InvalidToken, decode_access_token
from gateway.settings import Settings
from tests.auth.conftest import signed_in
from tests.conftest import DEMO_NOW, GraphQLClient


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]
    original = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return count


async def _decode(app: Any, settings: Settings, token: str, **changes: Any) -> Any:
    return await decode_access_token(
        token,
        keys=app.state.identity.keys,
        issuer=changes.get("issuer", settings.issuer),
        audience=changes.get("audience", AUDIENCE),
        now=changes.get("now", DEMO_NOW),
    )


async def test_a_token_seen_again_is_not_verified_again(
    app: Any, gql: GraphQLClient, settings: Settings, decodes: list[int]
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    tokens._VERIFIED.clear()
    first = await _decode(app, settings, token)
    assert decodes[0] == 1
    for _ in range(3):
        assert await _decode(app, settings, token) is first
    assert decodes[0] == 1
    assert first.subject


async def test_the_times_are_checked_on_every_use(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    await _decode(app, settings, token)
    later = DEMO_NOW + dt.timedelta(hours=2)
    with pytest.raises(InvalidToken, match="expired"):
        await _decode(app, settings, token, now=later)
    earlier = DEMO_NOW - dt.timedelta(hours=2)
    with pytest.raises(InvalidToken, match="not yet valid"):
        await _decode(app, settings, token, now=earlier)


async def test_a_key_the_ring_no_longer_gives_refuses_a_token_seen_before(
    app: Any,
    gql: GraphQLClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    decodes: list[int],
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    tokens._VERIFIED.clear()
    await _decode(app, settings, token)
    keys = app.state.identity.keys

    async def gone(_kid: str) -> None:
        return None

    with monkeypatch.context() as patched:
        patched.setattr(keys, "public_key", gone)
        with pytest.raises(InvalidToken, match="unknown kid"):
            await _decode(app, settings, token)
    # the same key as another object (the ring reloaded): verified again, then kept
    kid = jwt.get_unverified_header(token)["kid"]
    same = Ed25519PublicKey.from_public_bytes((await keys.public_key(kid)).public_bytes_raw())

    async def reloaded(_kid: str) -> Ed25519PublicKey:
        return same

    monkeypatch.setattr(keys, "public_key", reloaded)
    before = decodes[0]
    await _decode(app, settings, token)
    await _decode(app, settings, token)
    assert decodes[0] == before + 1


async def test_another_audience_or_issuer_verifies_anew(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    await _decode(app, settings, token)
    with pytest.raises(InvalidToken):
        await _decode(app, settings, token, audience="someone-else")
    with pytest.raises(InvalidToken):
        await _decode(app, settings, token, issuer="https://elsewhere.example")


async def test_the_cache_is_bounded(
    app: Any, gql: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    monkeypatch.setattr(tokens, "VERIFIED_MAX", 3)
    tokens._VERIFIED.clear()
    for n in range(3):
        tokens._VERIFIED[(f"t{n}", "", "")] = ("", None, {}, None)  # type: ignore[assignment]
    await _decode(app, settings, token)
    assert len(tokens._VERIFIED) == 3 and ("t0", "", "") not in tokens._VERIFIED
    tokens._VERIFIED.clear()
