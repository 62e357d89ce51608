"""Two deployments on one Redis: each keeps its keys and pub/sub channels under its own
namespace (``GOVHUB_REDIS_PREFIX``, else one derived from its public URL), so neither
sees the other's events, denylist or throttle windows. Redis pub/sub ignores the
database number: the channel's name is all that keeps them apart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from auth.identity import denylist_key
from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from resolvers.case_updates import case_channel, publish_case_updated
from resolvers.pubsub import RedisBroker
from tests.conftest import BACKEND, DEMO_NOW

WAIT = 10.0
NUMBER = "140702000000-20261120-00077"


@pytest.mark.parametrize(
    ("overrides", "namespace"),
    [
        ({}, "govhub:127.0.0.1:8000:"),
        ({"host": "0.0.0.0", "port": 9000}, "govhub:0.0.0.0:9000:"),
        ({"public_url": "https://GovHub.Jinzhong.gov.cn/"}, "govhub:govhub.jinzhong.gov.cn:"),
        ({"public_url": "https://hub.example.cn/yuci"}, "govhub:hub.example.cn/yuci:"),
        ({"public_url": "https://a.example", "redis_prefix": "jz-prod"}, "jz-prod:"),
        ({"redis_prefix": "jz:staging:"}, "jz:staging:"),
    ],
)
def test_the_namespace_follows_the_public_url_unless_set(
    overrides: dict[str, Any], namespace: str
) -> None:
    assert Settings(_env_file=None, **overrides).redis_namespace == namespace  # type: ignore[call-arg]


def test_a_namespace_with_spaces_or_wildcards_is_refused() -> None:
    for bad in ("", "two words", "govhub:*", "a?b"):
        with pytest.raises(ValueError, match="redis_prefix"):
            Settings(_env_file=None, redis_prefix=bad)  # type: ignore[call-arg]


@asynccontextmanager
async def deployment(settings: Settings, nodes: NodeRegistry, url: str) -> AsyncIterator[Any]:
    """A hub whose public address is ``url`` (its Redis namespace follows)."""
    app = create_app(
        settings.model_copy(update={"public_url": url}), nodes=nodes, clock=FixedClock(DEMO_NOW)
    )
    try:
        yield app
    finally:
        await app.state.broker.close()
        await app.state.identity.close()


postgres_only = pytest.mark.skipif(
    BACKEND != "postgres", reason="Redis is there in the PostgreSQL pass"
)


@pytest.mark.postgres
@postgres_only
async def test_a_case_event_reaches_only_its_own_deployment(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with (
        deployment(settings, nodes, "https://jinzhong.example.cn") as ours,
        deployment(settings, nodes, "https://taiyuan.example.cn") as theirs,
    ):
        assert ours.state.settings.redis_url == theirs.state.settings.redis_url
        assert isinstance(ours.state.broker, RedisBroker)
        # another process of our deployment: the same namespace, so it hears us
        replica = RedisBroker(settings.redis_url or "", ours.state.settings.redis_namespace)
        try:
            async with (
                replica.subscribe(case_channel(NUMBER)) as ours_hear,
                theirs.state.broker.subscribe(case_channel(NUMBER)) as theirs_hear,
            ):
                await publish_case_updated(ours.state.broker, NUMBER)
                await theirs.state.broker.publish(case_channel(NUMBER), "theirs")
                async with asyncio.timeout(WAIT):
                    assert await anext(ours_hear) == NUMBER
                    # Redis delivers in the order it was told: had our message reached
                    # them, it would come first
                    assert await anext(theirs_hear) == "theirs"
        finally:
            await replica.close()


@pytest.mark.postgres
@postgres_only
async def test_a_revoked_session_and_a_spent_throttle_stay_in_their_deployment(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with (
        deployment(settings, nodes, "https://jinzhong.example.cn") as ours,
        deployment(settings, nodes, "https://taiyuan.example.cn") as theirs,
    ):
        await ours.state.identity.deny("session-of-ours")
        assert await ours.state.identity.kv.get(denylist_key("session-of-ours")) == "1"
        assert await theirs.state.identity.kv.get(denylist_key("session-of-ours")) is None
        for _ in range(settings.login_failures_per_minute):
            assert await ours.state.identity.throttle.login_attempt("shared-name", "10.9.9.9")
        assert not await ours.state.identity.throttle.login_attempt("shared-name", "10.9.9.9")
        assert await theirs.state.identity.throttle.login_attempt("shared-name", "10.9.9.9")
