"""The speed table's raw acceptCase baseline (``bench.writes.accept_full_raw``) leaves
the store as the hub's acceptCase does: one case accepted by each, both submitted by
the same resident at the same moment, their rows compared column by column (what
names the case itself — its number, the notice's id and seal, the event's place in
the chain — aside), and the division's audit chain still whole."""

from __future__ import annotations

from typing import Any, cast

import jwt
from sqlalchemy import Table, select

from bench.scenarios import RECEPTIONIST
from bench.writes import RawKeys, accept_full_raw, accept_raw, raw_actor
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.models import Case, CaseTimer
from levels.common.enums import Level
from levels.notices.models import CaseNotice
from tests.auth.conftest import bearer
from tests.conftest import GraphQLClient
from tests.resolvers.conftest import ACCEPT, Waiting

_case = cast(Table, Case.__table__)
_timer = cast(Table, CaseTimer.__table__)
_notice = cast(Table, CaseNotice.__table__)
_event = cast(Table, AuditEvent.__table__)


async def _rows(nodes: NodeRegistry, number: str) -> dict[str, Any]:
    """What an acceptance leaves of case ``number``, without what names the case."""
    async with nodes[Level.COUNTY].engine.connect() as conn:
        case = (await conn.execute(select(_case).where(_case.c.number == number))).one()
        timers = (
            await conn.execute(
                select(_timer.c.kind, _timer.c.due_at, _timer.c.fired_at, _timer.c.cancelled_at)
                .where(_timer.c.case_number == number)
                .order_by(_timer.c.kind, _timer.c.due_at)
            )
        ).all()
        notices = (
            await conn.execute(
                select(_notice).where(_notice.c.case_number == number).order_by(_notice.c.seq)
            )
        ).all()
        events = (
            await conn.execute(
                select(_event).where(_event.c.case_number == number).order_by(_event.c.seq)
            )
        ).all()
    claims = [jwt.decode(n.token, options={"verify_signature": False}) for n in notices]
    return {
        "case": {k: v for k, v in case._mapping.items() if k != "number"},
        "timers": [tuple(t) for t in timers],
        "notices": [
            (n.seq, n.kind, n.org_code, n.issued_at, n.kid, {**n.content, "case": None})
            for n in notices
        ],
        "claims": [{**c, "jti": None, "case": None, "sha256": None} for c in claims],
        "events": [
            {
                k: v
                for k, v in e._mapping.items()
                if k not in ("seq", "case_number", "prev_hash", "hash", "request_id")
            }
            for e in events
        ],
    }


async def test_the_raw_write_leaves_the_rows_the_hub_leaves(
    gql: GraphQLClient, nodes: NodeRegistry, settings: Settings, waiting: Waiting
) -> None:
    by_hub, by_raw, _ = waiting.numbers
    body = await gql(ACCEPT, {"number": by_hub}, **bearer(waiting.receptionist))
    payload = body["data"]["acceptCase"]
    assert payload["errors"] == [], body
    actor = await raw_actor(nodes, RECEPTIONIST)
    keys = RawKeys(settings.identity_secret())
    answer = await accept_full_raw(nodes, by_raw, actor, keys, request_id="raw-1")
    hub, raw = await _rows(nodes, by_hub), await _rows(nodes, by_raw)
    assert raw["case"]["status"].value == "ACCEPTED" and raw["case"]["version"] == 2
    assert raw["timers"] and any(t[3] is not None for t in raw["timers"])
    assert [n[1].value for n in raw["notices"]][-1] == "ACCEPTANCE"
    assert raw["events"][-1]["action"] == "ACCEPT"
    assert raw == hub
    # the answer is the hub's payload's: status, version, due day
    case = payload["case"]
    assert b'"status":"ACCEPTED"' in answer and f'"version":{case["version"]}'.encode() in answer
    assert f'"dueOn":"{case["clock"]["dueOn"]}"'.encode() in answer
    # the raw event is chained to its division's head, as the hub's is
    async with nodes[Level.COUNTY].sessions() as session:
        report = await verify_division(
            session=session, level=Level.COUNTY.value, division=by_raw[:12]
        )
    assert report.valid, report


async def test_the_minimal_write_does_less(
    gql: GraphQLClient, nodes: NodeRegistry, waiting: Waiting
) -> None:
    """The old baseline, kept for comparison: on a case already accepted it writes the
    case row and one event, and no timer or notice."""
    number = waiting.numbers[2]
    body = await gql(ACCEPT, {"number": number}, **bearer(waiting.receptionist))
    assert body["data"]["acceptCase"]["errors"] == [], body
    before = await _rows(nodes, number)
    await accept_raw(nodes, number)
    after = await _rows(nodes, number)
    assert after["timers"] == before["timers"] and after["notices"] == before["notices"]
    assert len(after["events"]) == len(before["events"]) + 1
    assert after["case"]["version"] == before["case"]["version"] + 1
