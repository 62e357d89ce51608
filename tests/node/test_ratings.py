"""好差评 at the node that holds the case (``rateCase``), called as the hub calls it: a
差评 of a decided 榆次区 case is written at the county node with the rectification it
opens, both events by the applicant in the node's chain (which verifies); refusals of
the rules come back typed with nothing written; a case held elsewhere, a rating not of
its enum and a call without the hub's token are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.models import Evaluation, Rectification
from levels.evaluations.service import DEFAULT_RECTIFICATION_DAYS, RESULT_STATUSES
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import write
from tests.node.conftest import MakeClient
from tests.scenarios.desk import at

# the demo's own rectification time, so that the demo's rules still hold of every rating
DAYS = DEFAULT_RECTIFICATION_DAYS
CHANNEL = "KIOSK"


async def rate_case(
    client: NodeClient,
    number: str,
    rating: str,
    *,
    actor: dict[str, Any],
    now: dt.datetime,
    rectification_days: int,
    comment: str | None = None,
) -> dict[str, Any]:
    """``rateCase`` as the hub asks it (``resolvers/rating_api.py``)."""
    return await write(
        client,
        "rateCase",
        actor=actor,
        now=now,
        number=number,
        rating=rating,
        rectificationDays=rectification_days,
        comment=comment,
    )


async def _cases(nodes: NodeRegistry) -> tuple[Case, Case]:
    """A decided 榆次区 case not rated on ``CHANNEL``, and one without a result yet."""
    async with nodes[Level.COUNTY].sessions() as session:
        rated = select(Evaluation.case_number).where(Evaluation.channel == CHANNEL)
        decided = await session.scalar(
            select(Case)
            .where(Case.status.in_(RESULT_STATUSES), Case.number.not_in(rated))
            .order_by(Case.number)
            .limit(1)
        )
        pending = await session.scalar(
            select(Case)
            .where(Case.status.not_in(RESULT_STATUSES), Case.applicant_id.is_not(None))
            .order_by(Case.number)
            .limit(1)
        )
    assert decided is not None and pending is not None
    return decided, pending


def _applicant(case: Case) -> dict[str, Any]:
    return {"id": case.applicant_id, "kind": "PERSON", "channel": CHANNEL}


async def _counts(nodes: NodeRegistry) -> tuple[int, ...]:
    async with nodes[Level.COUNTY].sessions() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Evaluation, Rectification, AuditEvent)
            ]
        )


async def test_a_bad_rating_is_written_at_the_node_with_its_rectification(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    decided, _ = await _cases(nodes)
    now = at(decided.updated_at.date(), 23)

    answer = await rate_case(
        node_client("county"),
        decided.number,
        "VERY_DISSATISFIED",
        actor=_applicant(decided),
        now=now,
        rectification_days=DAYS,
        comment="等了很久",
    )

    assert answer["error"] is None, answer
    assert answer["columns"]["rating"] == "VERY_DISSATISFIED"
    assert answer["columns"]["negative"] is True
    assert answer["rectification"]["status"] == "OPEN"
    async with nodes[Level.COUNTY].sessions() as session:
        kept = await session.scalar(
            select(Evaluation).where(
                Evaluation.case_number == decided.number, Evaluation.channel == CHANNEL
            )
        )
        done = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.case_number == decided.number)
                .order_by(AuditEvent.seq)
            )
        )
        report = await verify_division(
            session=session, level="COUNTY", division=done[-1].division_code
        )
    assert kept is not None and kept.public_id == answer["columns"]["public_id"]
    assert [(e.action, e.actor_id) for e in done[-2:]] == [
        ("RATE_CASE", decided.applicant_id),
        ("OPEN_RECTIFICATION", decided.applicant_id),
    ]
    assert report.valid, report

    # the same channel again: the rules' ALREADY_RATED, nothing more written
    before = await _counts(nodes)
    again = await rate_case(
        node_client("county"),
        decided.number,
        "SATISFIED",
        actor=_applicant(decided),
        now=now,
        rectification_days=DAYS,
    )
    assert again["columns"] is None and again["rectification"] is None
    assert again["error"]["code"] == "ALREADY_RATED"
    assert await _counts(nodes) == before


async def test_refusals_are_typed_and_write_nothing(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    decided, pending = await _cases(nodes)
    county = node_client("county")
    now = at(decided.updated_at.date(), 23)
    before = await _counts(nodes)

    someone = await rate_case(
        county,
        decided.number,
        "SATISFIED",
        actor={"id": "someone-else", "kind": "PERSON", "channel": CHANNEL},
        now=now,
        rectification_days=DAYS,
    )
    early = await rate_case(
        county,
        pending.number,
        "SATISFIED",
        actor=_applicant(pending),
        now=now,
        rectification_days=DAYS,
    )
    with pytest.raises(DomainError) as not_a_rating:
        await rate_case(
            county, decided.number, "MAYBE", actor=_applicant(decided), now=now,
            rectification_days=DAYS,
        )  # fmt: skip
    with pytest.raises(DomainError) as elsewhere:
        await rate_case(
            node_client("town"), decided.number, "SATISFIED", actor=_applicant(decided),
            now=now, rectification_days=DAYS,
        )  # fmt: skip

    assert someone["error"]["code"] == "NOT_THE_APPLICANT"
    assert early["error"]["code"] == "NO_RESULT_YET"
    assert (not_a_rating.value.code, not_a_rating.value.field) == (
        ErrorCode.BAD_USER_INPUT,
        ["rating"],
    )
    assert elsewhere.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert await _counts(nodes) == before


async def test_without_the_hubs_token_nothing_is_rated(
    nodes: NodeRegistry, node_apps: dict[str, Any]
) -> None:
    decided, _ = await _cases(nodes)
    document = """mutation($number: String!, $actor: ActorInput!, $now: DateTime!) {
      rateCase(number: $number, rating: "SATISFIED", actor: $actor, now: $now,
        rectificationDays: 5) { columns }
    }"""
    variables = {
        "number": decided.number,
        "actor": _applicant(decided),
        "now": at(decided.updated_at.date(), 23).isoformat(),
    }
    before = await _counts(nodes)
    transport = httpx.ASGITransport(app=node_apps["county"])
    async with httpx.AsyncClient(transport=transport, base_url="http://county.test") as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 401
    assert await _counts(nodes) == before
