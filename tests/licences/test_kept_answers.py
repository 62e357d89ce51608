"""The kit and an issuer's status list kept by the hub for their max-age (the embedded
default, signed by SQL over the stores): a burst of requests within it costs one round
of statements, the next request once it is over (by the hub's clock) another; its
max-age is what is left; an incomplete answer is not kept, nor one made while a
change was forgetting them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import select

from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.licences.models import ELicence
from resolvers.kept_answers import KeptAnswers
from resolvers.registry import NodeRegistry, count_statements
from tests.auth.conftest import own_hub
from tests.conftest import DEMO_NOW

KIT = "/licences/kit"


def _nodes_read(statements: dict[str, int]) -> int:
    return sum(n for name, n in statements.items() if name != "identity")


async def test_the_kit_is_signed_once_in_its_max_age(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(settings, nodes) as hub:
        http = hub.gql.http
        await hub.app.state.licensing.library_orgs()  # read once, kept by the hub
        with count_statements(nodes) as one_round:
            await hub.app.state.licensing.kit()  # what one making reads
        with count_statements(nodes) as burst:
            answers = await asyncio.gather(*(http.get(KIT) for _ in range(6)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.text for a in answers}) == 1
        assert {a.headers["cache-control"] for a in answers} == {"max-age=60"}
        assert _nodes_read(burst) == _nodes_read(one_round) > 0

        hub.clock.advance(dt.timedelta(seconds=59))
        with count_statements(nodes) as kept:
            late = await http.get(KIT)
        assert _nodes_read(kept) == 0
        assert (late.text, late.headers["cache-control"]) == (answers[0].text, "max-age=1")

        hub.clock.advance(dt.timedelta(seconds=1))  # its max-age over
        with count_statements(nodes) as again:
            fresh = await http.get(KIT)
        assert _nodes_read(again) == _nodes_read(one_round)
        assert fresh.json()["generatedAt"] == (DEMO_NOW + dt.timedelta(seconds=60)).isoformat()
        assert fresh.headers["cache-control"] == "max-age=60"

        # a clock moved back finds nothing kept from its future
        hub.clock.advance(dt.timedelta(seconds=-30))
        with count_statements(nodes) as back:
            await http.get(KIT)
        assert _nodes_read(back) == _nodes_read(one_round)


async def test_an_issuer_s_list_is_signed_once_in_its_max_age(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with nodes[Level.COUNTY].sessions() as session:
        org = await session.scalar(
            select(ELicence.issuer_org_code).where(ELicence.issuer_level == Level.COUNTY).limit(1)
        )
    assert org is not None
    async with own_hub(settings, nodes, licence_status_ttl_seconds=120) as hub:
        http = hub.gql.http
        with count_statements(nodes) as first:
            listed = await http.get(f"/licences/status/{org}")
        # never longer than the list is trusted offline
        assert listed.headers["cache-control"] == "max-age=120"
        hub.clock.advance(dt.timedelta(seconds=100))
        with count_statements(nodes) as kept:
            same = await http.get(f"/licences/status/{org}")
        assert _nodes_read(first) > 0 and _nodes_read(kept) == 0
        assert (same.text, same.headers["cache-control"]) == (listed.text, "max-age=20")
        hub.clock.advance(dt.timedelta(seconds=20))
        with count_statements(nodes) as again:
            signed = await http.get(f"/licences/status/{org}")
        assert _nodes_read(again) == _nodes_read(first) and signed.text != listed.text


async def test_an_answer_not_to_keep_or_made_across_a_forget_is_made_again() -> None:
    made: list[int] = []
    answers: KeptAnswers[dict[str, Any]] = KeptAnswers(FixedClock(DEMO_NOW), 60)

    async def make(_now: dt.datetime) -> dict[str, Any]:
        made.append(1)
        return {"whole": len(made) > 1}

    first = await answers.get("k", make, lambda a: bool(a["whole"]))
    assert first.value == {"whole": False} and answers.fresh("k") is None  # not kept
    second = await answers.get("k", make, lambda a: bool(a["whole"]))
    assert answers.fresh("k") == second and len(made) == 2

    begun, go_on = asyncio.Event(), asyncio.Event()

    async def slow(now: dt.datetime) -> dict[str, Any]:
        begun.set()
        await go_on.wait()
        return await make(now)

    answers.forget()
    making = asyncio.ensure_future(answers.get("k", slow))
    await begun.wait()
    answers.forget()  # a change while it was made: what it says may be older
    go_on.set()
    assert (await making).value == {"whole": True}
    assert answers.fresh("k") is None and len(made) == 3
