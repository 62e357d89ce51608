"""The pieces of idempotent retries: keys, fingerprints, the record written with the
effect (and rolled back with it), the in-flight lock, retention and the purge."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import func, select

from gateway.idempotency import InvalidKey, fingerprint, parse_key, root_fields
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from gateway.timers import fire_all
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.models import Division
from levels.idempotency import records as idempotency_records
from levels.idempotency.models import IdempotencyRecord
from levels.idempotency.records import Pending
from tests.auth.conftest import bearer, own_hub, signed_in
from tests.conftest import BACKEND, DEMO_NOW, make_registry
from tests.support import pg

SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number } errors { code } }
}"""
# refused (a malformed implementation code): nothing is written
REFUSED = {"input": {"implementationCode": "1407", "channel": "MOBILE", "materials": []}}


def test_keys_are_one_to_255_printable_ascii_characters_given_once() -> None:
    assert parse_key([b"order-42"]) == "order-42"
    assert parse_key([b"  spaced  "]) == "spaced"
    # a structured-field string, as draft-ietf-httpapi-idempotency-key-header writes it
    assert parse_key([b'"8e03978e-40d5-43e8-bc93-6894a57f9324"']) == (
        "8e03978e-40d5-43e8-bc93-6894a57f9324"
    )
    assert parse_key([b"x" * 255]) == "x" * 255
    for bad in ([b""], [b"   "], [b'""'], [b"x" * 256], [b"a\x01b"], ["键".encode()], [b"a", b"b"]):
        with pytest.raises(InvalidKey):
            parse_key(bad)


def test_the_fingerprint_is_the_request_in_canonical_json() -> None:
    query = "mutation($a: Int, $b: Int) { x }"
    same = fingerprint(query, None, {"a": 1, "b": {"c": 2, "d": [3]}})
    assert same == fingerprint(query, None, {"b": {"d": [3], "c": 2}, "a": 1})
    assert same != fingerprint(query, None, {"a": 1, "b": {"c": 2, "d": [4]}})
    assert same != fingerprint(query, "Named", {"a": 1, "b": {"c": 2, "d": [3]}})
    assert same != fingerprint(query + " ", None, {"a": 1, "b": {"c": 2, "d": [3]}})
    assert fingerprint(query, None, None) == fingerprint(query, None, {})


def test_the_operation_is_its_root_fields_through_aliases_and_fragments() -> None:
    document = parse(
        """
        mutation One { a: referCase(input: {number: "1"}) { errors { code } } }
        mutation Two { ...F ... on Mutation { acceptCase(input: {number: "1"}) { __typename } } }
        fragment F on Mutation { submitCase(input: {}) { __typename } __typename }
        """
    )
    assert root_fields(document, "One") == ["referCase"]
    assert root_fields(document, "Two") == ["acceptCase", "submitCase"]
    assert root_fields(document, "Three") == []


# --- the record and the effect: one transaction ---------------------------------------


@pytest.fixture(scope="module")
async def fresh() -> AsyncIterator[tuple[Settings, NodeRegistry]]:
    """Empty migrated stores of their own (rows written here reach no other test)."""
    import tempfile
    from pathlib import Path

    if BACKEND == "postgres":
        await pg.require_services()
    with tempfile.TemporaryDirectory() as tmp:
        settings, nodes, created = await make_registry(Path(tmp), f"idem{uuid.uuid4().hex[:6]}")
        yield settings, nodes
        await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


def pending_for(nodes: NodeRegistry, key: str) -> Pending:
    return Pending(
        client="tester",
        operation="submitCase",
        key=key,
        fingerprint="f" * 64,
        created_at=DEMO_NOW,
        expires_at=DEMO_NOW + dt.timedelta(hours=72),
        engines={node.engine.sync_engine: node for node in nodes},
    )


async def records(nodes: NodeRegistry, level: Level, key: str) -> list[IdempotencyRecord]:
    async with nodes[level].sessions() as session:
        found = await session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        return list(found)


def division(code: str) -> Division:
    return Division(code=code, name="测试村", level=Level.VILLAGE, parent_code="140702101000")


async def test_the_record_commits_and_rolls_back_with_the_effect(
    fresh: tuple[Settings, NodeRegistry],
) -> None:
    _, nodes = fresh
    idempotency_records.install_hooks()
    county = nodes[Level.COUNTY]
    # the effect fails: neither it nor the record is there
    failed = pending_for(nodes, "k-failed")
    token = idempotency_records.pending_var.set(failed)
    try:
        with pytest.raises(RuntimeError):
            async with county.sessions.begin() as session:
                session.add(division("140702101901"))
                await session.flush()
                raise RuntimeError("the write fails after the row")
        assert failed.committed is None
        # a transaction that reads only carries no record
        async with county.sessions.begin() as session:
            await session.get(Division, "140702101901")
        assert failed.committed is None
        # the effect commits: the record with it, naming the row
        async with county.sessions.begin() as session:
            session.add(division("140702101902"))
    finally:
        idempotency_records.pending_var.reset(token)
    assert await records(nodes, Level.COUNTY, "k-failed") != []
    assert failed.committed is county
    (record,) = await records(nodes, Level.COUNTY, "k-failed")
    assert record.effect == {"store": "county", "rows": ["divisions:140702101902"]}
    async with county.sessions() as session:
        assert await session.get(Division, "140702101901") is None
    # a second effect under the same key in that store is refused with its record
    twin = pending_for(nodes, "k-failed")
    token = idempotency_records.pending_var.set(twin)
    try:
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            async with county.sessions.begin() as session:
                session.add(division("140702101903"))
    finally:
        idempotency_records.pending_var.reset(token)
    async with county.sessions() as session:
        assert await session.get(Division, "140702101903") is None
    # no pending record (a request without a key): writes carry nothing
    async with county.sessions.begin() as session:
        session.add(division("140702101904"))
    async with county.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert total == 1


async def test_the_timer_pass_purges_expired_records(
    fresh: tuple[Settings, NodeRegistry],
) -> None:
    _, nodes = fresh
    async with nodes[Level.TOWN].sessions.begin() as session:
        for key, hours in (("old", -1), ("live", 1)):
            session.add(
                IdempotencyRecord(
                    client="tester",
                    operation="submitCase",
                    key=key,
                    fingerprint="f" * 64,
                    created_at=DEMO_NOW - dt.timedelta(hours=72),
                    expires_at=DEMO_NOW + dt.timedelta(hours=hours),
                    effect=None,
                )
            )
    done = await fire_all(nodes, FixedClock(DEMO_NOW))
    assert done.idempotency_purged["town"] == 1
    assert [r.key for r in await records(nodes, Level.TOWN, "live")] == ["live"]
    assert await records(nodes, Level.TOWN, "old") == []


# --- over HTTP: the lock, reuse, retention --------------------------------------------


async def keyed(gql: Any, token: str, key: str, variables: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = await gql.post(
        SUBMIT, variables, **bearer(token), **{"idempotency-key": key}
    )
    return response


def code(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    return str(error["extensions"]["code"])


async def test_a_request_in_flight_holds_its_key(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes) as hub:
        token = (await signed_in(hub.gql, "resident1", "MOBILE"))["accessToken"]
        viewer = await hub.app.state.identity.authenticate(token)
        kv = hub.app.state.identity.kv
        key = f"k-{uuid.uuid4().hex}"
        lock = f"idempotency:{viewer.subject}:submitCase:{key}"
        mine = fingerprint(SUBMIT, None, REFUSED)
        # the first request is still running (its lock holds its fingerprint)
        await kv.set(lock, f"{mine} first", 60)
        busy = await keyed(hub.gql, token, key, REFUSED)
        assert (busy.status_code, code(busy)) == (409, "IDEMPOTENCY_IN_PROGRESS")
        assert busy.json()["errors"][0]["message"].startswith("使用该 Idempotency-Key")
        # another request under the running one's key
        other = {"input": {**REFUSED["input"], "implementationCode": "1408"}}
        reused = await keyed(hub.gql, token, key, other)
        assert (reused.status_code, code(reused)) == (422, "IDEMPOTENCY_KEY_REUSED")
        # the first one ends (or its process died and the lock expired): it runs
        await kv.delete(lock)
        ran = await keyed(hub.gql, token, key, REFUSED)
        assert ran.status_code == 200
        assert ran.json()["data"]["submitCase"]["errors"] == [
            {"code": "INVALID_IMPLEMENTATION_CODE"}
        ]
        # and its lock is given back
        assert await kv.get(lock) is None


async def test_an_expired_key_is_new_again(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes, idempotency_retention_hours=1) as hub:
        token = (await signed_in(hub.gql, "resident1", "MOBILE"))["accessToken"]
        key = f"k-{uuid.uuid4().hex}"
        viewer = await hub.app.state.identity.authenticate(token)
        first = await keyed(hub.gql, token, key, REFUSED)
        assert (await keyed(hub.gql, token, key, REFUSED)).headers["idempotent-replayed"] == "true"
        hub.clock.instant = DEMO_NOW + dt.timedelta(hours=1, minutes=1)
        token = (await hub.app.state.identity.issue(viewer)).token
        later = await keyed(hub.gql, token, key, REFUSED)
        assert later.status_code == 200 and "idempotent-replayed" not in later.headers
        assert later.json() == first.json()
        # the new record replaced the expired one
        again = await keyed(hub.gql, token, key, REFUSED)
        assert again.headers["idempotent-replayed"] == "true"
