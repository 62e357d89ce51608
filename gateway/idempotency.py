"""Idempotent retries of mutations: the ``Idempotency-Key`` header (DESIGN §6).

A machine client (a county system) or the mobile app on a flaky network sends a
mutation with ``Idempotency-Key: <key>``; sent again with the same key and the same
request, it gets the stored response back byte for byte (``Idempotent-Replayed:
true``) and nothing is done twice.

* The key is scoped by the client (the token's subject: an account or a machine
  client) and the operation (the mutation's root fields). The request's fingerprint
  is SHA-256 over the document, the operation name and the variables as canonical
  JSON; the same key with another fingerprint is ``IDEMPOTENCY_KEY_REUSED`` (422).
* The record is written **with the effect**: a SQLAlchemy ``before_commit`` hook adds
  it to the first transaction of the request that writes to a level store, so both
  commit or roll back together, and the record's primary key refuses a second effect
  under the key in that store. Through a node's API (a node served in the hub's
  process, ``GOVHUB_NODE_CALLS=api``) the write call carries the record and the node's
  transaction writes it by the same hook (``resolvers/nodeclient.py``,
  ``gateway/node_http.py``); a node holding the key already refuses the call
  (IDEMPOTENCY_IN_PROGRESS) and the request answers as the one that wrote it. A
  mutation that writes nothing (refused with payload errors) gets its record after it
  ran, in the city store.
* The response is saved to the record after the effect, in a second short
  transaction. If the hub stops in between, a retry finds the record without a
  response and answers ``IDEMPOTENCY_RESULT_UNAVAILABLE`` (409) with the effect's
  reference (the store and the rows written, e.g. ``cases:<number>``) — the effect is
  not done again.
* While a request with the key runs, a short lock (Redis ``SET NX EX``, or one
  process's dict without Redis; ``GOVHUB_IDEMPOTENCY_LOCK_SECONDS``) makes a second one
  ``IDEMPOTENCY_IN_PROGRESS`` (409); it expires on its own if the process dies.
* A malformed key (empty, over 255 characters, not printable ASCII, given twice) is
  ``IDEMPOTENCY_KEY_INVALID`` (400). Keys on queries are ignored (a query is safe to
  repeat; draft-ietf-httpapi-idempotency-key-header applies the header to
  non-idempotent requests), and so are keys of the anonymous and of the session
  mutations (login, refreshSession, logout and the hand-off), whose responses carry
  tokens that are never stored and which have replay protections of their own.
* Records live ``GOVHUB_IDEMPOTENCY_RETENTION_HOURS`` (72); the timer pass purges the
  expired ones, and an expired key counts as new.

Three pieces: the record's hooks (``levels/idempotency/records.py``), and here
``Idempotency``, a schema extension that decides after parsing and
validation (so persisted queries are resolved and the operation type is known), and
``IdempotencyMiddleware``, an ASGI middleware that keeps the response bytes and
replays them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from auth.kv import KeyValue
from gateway.nodes import LevelNode, NodeRegistry
from levels.common.enums import Level
from levels.common.errors import message_for
from levels.idempotency import service
from levels.idempotency.errors import IdempotencyErrorCode
from levels.idempotency.models import IdempotencyRecord
from levels.idempotency.records import Pending, install_hooks, pending_var
from resolvers import node_records

log = logging.getLogger("govhub.idempotency")

KEY_HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# root fields whose keys are ignored: their responses carry tokens (never stored)
SESSION_MUTATIONS = frozenset(
    {"login", "refreshSession", "logout", "startHandoff", "approveHandoff", "completeHandoff"}
)
# a mutation that writes nothing keeps its record in the one node holding this level
# (``NodeRegistry.single``): a record must live in exactly one store, and such a
# mutation names no division to route by. Every topology has a single city node (the
# county, town and village levels may be split over several nodes by prefix, so
# ``nodes[Level.COUNTY]`` would be ambiguous); ``lookup`` reads every node anyway, so
# the home is only where the record is written.
HOME = Level.CITY
_STATE = "govhub_idempotency"


class InvalidKey(ValueError):
    pass


def parse_key(values: Sequence[bytes]) -> str:
    """The key of the header: 1–255 printable ASCII characters, given once. A
    structured-field string (``"…"``, as the IETF draft writes it) is unquoted."""
    if len(values) != 1:
        raise InvalidKey("the header is given more than once")
    try:
        raw = values[0].decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidKey("not ASCII") from None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not raw or not raw.strip():
        raise InvalidKey("empty")
    if len(raw) > MAX_KEY_LENGTH:
        raise InvalidKey(f"longer than {MAX_KEY_LENGTH} characters")
    if any(not (0x20 <= ord(c) <= 0x7E) for c in raw):
        raise InvalidKey("not printable")
    return raw


def fingerprint(query: str, operation_name: str | None, variables: Mapping[str, Any] | None) -> str:
    """SHA-256 (hex) of the request as canonical JSON (sorted keys): the same document,
    operation name and variables give the same fingerprint, however the client
    ordered its variables."""
    canonical = orjson.dumps(
        {"query": query, "operationName": operation_name, "variables": variables or {}},
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(canonical).hexdigest()


def root_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root field names the operation selects (through fragments too), sorted."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()

    def walk(selections: SelectionSetNode, seen: frozenset[str]) -> None:
        for node in selections.selections:
            if isinstance(node, FieldNode):
                names.add(node.name.value)
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    walk(fragments[name].selection_set, seen | {name})

    walk(operation.selection_set, frozenset())
    names.discard("__typename")
    return sorted(names)


# --- the request's slot: what the extension decided, for the middleware -------------


@dataclass
class Outcome:
    status: int
    body: bytes
    content_type: str = "application/json"
    replayed: bool = False


@dataclass
class Slot:
    headers: list[bytes]
    nodes: NodeRegistry | None = None
    kv: KeyValue | None = None
    timeout: float = 5.0
    # set by the extension: a response to send instead of the one made, or a status
    # for the one made (a refusal), or the record of a mutation that ran under the key
    outcome: Outcome | None = None
    status: int | None = None
    pending: Pending | None = None
    lock: tuple[str, str] | None = None
    used: bool = False
    locale: str = "zh"

    @property
    def active(self) -> bool:
        return self.outcome is not None or self.status is not None or self.pending is not None

    async def release(self) -> None:
        if self.pending is not None:
            self.pending.closed = True
        lock, self.lock = self.lock, None
        if lock is not None and self.kv is not None:
            name, value = lock
            with contextlib.suppress(Exception):
                if await self.kv.get(name) == value:
                    await self.kv.delete(name)

    async def finish(self, status: int, content_type: str, body: bytes) -> Outcome | None:
        """Keep the response of the mutation that ran; the response to send instead,
        when a twin request took the key first."""
        pending = self.pending
        assert pending is not None and self.nodes is not None
        pending.closed = True
        if pending.committed is not None:
            try:
                await _save(self.nodes[pending.committed.name], pending, status, content_type, body)
            except Exception:
                # the effect stands; a retry gets IDEMPOTENCY_RESULT_UNAVAILABLE
                log.exception("the response of idempotency key %r was not saved", pending.key)
            return None
        if not pending.twin and status == 200 and not _has_errors(body):
            # refused with payload errors, or nothing to change: kept as it is
            record = pending.record(None)
            record.status_code, record.content_type, record.response = status, content_type, body
            try:
                if await _keep(self.nodes.single(HOME), record):
                    return None
            except IntegrityError:
                pass
            # else a twin request kept the key first: answer as it did
            except Exception:
                log.exception("the response of idempotency key %r was not saved", pending.key)
                return None
        # failed without an effect (a node down, an unexpected error): not kept, so a
        # retry runs again — unless a twin request took the key meanwhile
        twin = await lookup(self.nodes, pending, self.timeout)
        if twin is None and pending.twin:
            # a node refused the write for a twin's record it holds: not run here
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS, self.locale)
        if twin is None:
            return None
        if twin.fingerprint != pending.fingerprint:
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED, self.locale)
        if twin.response is None:
            # it committed just now (another replica, whose lock this one cannot see)
            # and is saving its response
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS, self.locale)
        return answer(twin, self.locale)


async def _save(
    node: LevelNode, pending: Pending, status: int, content_type: str, body: bytes
) -> None:
    """Save the response to the record written with the effect in ``node``'s store."""
    if node_records.through_api(node.client):
        assert node.client is not None
        await node_records.save(
            node.client,
            pending.client,
            pending.operation,
            pending.key,
            status_code=status,
            content_type=content_type,
            body=body,
        )
        return
    async with node.sessions.begin() as session:
        await service.save_response(
            session,
            pending.client,
            pending.operation,
            pending.key,
            status_code=status,
            content_type=content_type,
            body=body,
        )


async def _keep(node: LevelNode, record: IdempotencyRecord) -> bool:
    """Keep the record of a mutation that wrote nothing; False: a twin's is there."""
    if node_records.through_api(node.client):
        assert node.client is not None
        return await node_records.keep(node.client, record)
    async with node.sessions.begin() as session:
        await service.drop_expired_key(
            session, record.client, record.operation, record.key, record.created_at
        )
        session.add(record)
    return True


def _has_errors(body: bytes) -> bool:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return not isinstance(decoded, dict) or bool(decoded.get("errors"))


def refusal(
    code: IdempotencyErrorCode, locale: str, extensions: dict[str, Any] | None = None
) -> Outcome:
    error = {
        "message": message_for(code, locale),
        "extensions": {"code": code.value, **(extensions or {})},
    }
    return Outcome(code.http_status, orjson.dumps({"data": None, "errors": [error]}))


def answer(record: IdempotencyRecord, locale: str) -> Outcome:
    """What a retry of a finished request gets: its stored response, or — when the
    hub stopped between the effect and saving the response — the effect's reference."""
    if record.response is not None and record.status_code is not None:
        return Outcome(
            record.status_code,
            record.response,
            record.content_type or "application/json",
            replayed=True,
        )
    return refusal(
        IdempotencyErrorCode.IDEMPOTENCY_RESULT_UNAVAILABLE,
        locale,
        {"reference": record.effect or {}},
    )


async def lookup(nodes: NodeRegistry, pending: Pending, timeout: float) -> IdempotencyRecord | None:
    """The live record of the key in any level store (one that does not answer is
    skipped: should the effect be there, its primary key still refuses a second)."""

    async def one(node: LevelNode) -> IdempotencyRecord | None:
        if node_records.through_api(node.client):
            assert node.client is not None
            return await node_records.find(
                node.client, pending.client, pending.operation, pending.key, pending.created_at
            )
        async with node.sessions() as session:
            return await service.find(
                session, pending.client, pending.operation, pending.key, pending.created_at
            )

    found = await asyncio.gather(
        *(asyncio.wait_for(one(node), timeout) for node in nodes), return_exceptions=True
    )
    records = [r for r in found if isinstance(r, IdempotencyRecord)]
    for r in found:
        if isinstance(r, BaseException):
            log.warning("idempotency lookup failed in a store: %r", r)
    # the one with its response, if any
    records.sort(key=lambda r: r.response is None)
    return records[0] if records else None


def slot_of(context: Any) -> Slot | None:
    request = getattr(context, "request", None)
    state = getattr(request, "scope", {}).get("state") if request is not None else None
    slot = state.get(_STATE) if isinstance(state, dict) else None
    return slot if isinstance(slot, Slot) else None


class Idempotency(SchemaExtension):
    """Decides, after parsing and validation, what a keyed mutation gets: the stored
    response, a refusal, or to run with its record pending (see the module)."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        slot = slot_of(context)
        if (
            slot is None
            or execution.result is not None  # already refused by a check before
            or execution.operation_type is not OperationType.MUTATION
            or execution.graphql_document is None
        ):
            yield
            return
        viewer = context.viewer
        roots = root_fields(execution.graphql_document, execution.operation_name)
        if not viewer.authenticated or not roots or SESSION_MUTATIONS.intersection(roots):
            yield  # not keyed (see the module)
            return
        slot.locale = context.locale
        outcome = await self._decide(slot, context, roots)
        if outcome is None:
            pending_var.set(slot.pending)
            try:
                yield
            finally:
                pending_var.set(None)
            return
        if outcome.replayed:
            slot.outcome = outcome
        else:
            # a refusal goes out as the view makes it, with its status
            slot.status = outcome.status
        code = orjson.loads(outcome.body)["errors"][0] if not outcome.replayed else None
        execution.result = ExecutionResult(
            data=None,
            errors=[GraphQLError(code["message"], extensions=code["extensions"])] if code else None,
        )
        yield

    async def _decide(self, slot: Slot, context: Any, roots: list[str]) -> Outcome | None:
        execution = self.execution_context
        locale = context.locale
        try:
            key = parse_key(slot.headers)
        except InvalidKey as e:
            log.info("Idempotency-Key refused: %s", e)
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_KEY_INVALID, locale)
        if slot.used:  # a batch: one key, one mutation
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_KEY_INVALID, locale)
        slot.used = True
        settings = context.settings
        nodes: NodeRegistry = context.nodes
        now = context.clock.now()
        pending = Pending(
            client=context.viewer.subject,
            operation=",".join(roots)[:255],
            key=key,
            fingerprint=fingerprint(
                execution.query or "", execution.operation_name, execution.variables
            ),
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.idempotency_retention_hours),
            engines={node.engine.sync_engine: node for node in nodes},
        )
        slot.nodes, slot.kv = nodes, context.identity.kv
        slot.timeout = settings.node_timeout_seconds
        assert slot.kv is not None
        # a finished request: answered without the lock
        found = await lookup(nodes, pending, slot.timeout)
        if found is not None and (
            found.fingerprint != pending.fingerprint or found.response is not None
        ):
            return self._known(found, pending, locale)
        name = f"idempotency:{pending.client}:{pending.operation}:{key}"
        value = f"{pending.fingerprint} {uuid.uuid4().hex}"
        if not await slot.kv.add(name, value, settings.idempotency_lock_seconds):
            holder = await slot.kv.get(name)
            if holder is not None and holder.split(" ")[0] != pending.fingerprint:
                return refusal(IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED, locale)
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS, locale)
        slot.lock = (name, value)
        # the first may have finished between the lookup and the lock
        found = await lookup(nodes, pending, slot.timeout)
        if found is not None:
            await slot.release()
            return self._known(found, pending, locale)
        slot.pending = pending
        return None

    @staticmethod
    def _known(found: IdempotencyRecord, pending: Pending, locale: str) -> Outcome:
        if found.fingerprint != pending.fingerprint:
            return refusal(IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED, locale)
        return answer(found, locale)


class IdempotencyMiddleware:
    """Keeps the response of a keyed mutation (to save it with its record) and sends a
    stored one instead when the extension found it; everything else passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        install_hooks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope.get("headers", []) if k.lower() == KEY_HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        slot = Slot(headers=values)
        scope.setdefault("state", {})[_STATE] = slot
        held: list[Message] = []

        async def keep(message: Message) -> None:
            if not slot.active or message["type"] not in (
                "http.response.start",
                "http.response.body",
            ):
                await send(message)
            else:
                held.append(message)

        try:
            await self.app(scope, receive, keep)
            if not held:
                return
            start = held[0]
            body = b"".join(m.get("body", b"") for m in held[1:])
            outcome = slot.outcome
            if outcome is None and slot.pending is not None:
                content_type = _header(start, b"content-type") or "application/json"
                outcome = await slot.finish(start["status"], content_type, body)
            if outcome is not None:
                await _send(send, outcome)
                return
            if slot.status is not None:
                start = {**start, "status": slot.status}
            await send(start)
            await send({"type": "http.response.body", "body": body})
        finally:
            await slot.release()


def _header(start: Message, name: bytes) -> str | None:
    for k, v in start.get("headers", []):
        if k.lower() == name:
            return bytes(v).decode("latin-1")
    return None


async def _send(send: Send, outcome: Outcome) -> None:
    headers = [
        (b"content-type", outcome.content_type.encode("latin-1")),
        (b"content-length", str(len(outcome.body)).encode()),
    ]
    if outcome.replayed:
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})


__all__ = [
    "Idempotency",
    "IdempotencyMiddleware",
    "InvalidKey",
    "fingerprint",
    "parse_key",
    "root_fields",
]
