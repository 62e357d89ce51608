"""The node's ``/graphql`` as the hub calls it, with as little fixed cost per call as
the hub's few calls allow (``gateway/node_app.py`` serves it):

* ``HubAuth``: the hub token checked on every call; a token that verified is
  remembered until its end (at most ``TOKEN_MEMORY_SECONDS``), so the hub's token, reused
  for most of its life (``HubTokenSigner``), costs one signature check, not one per call.
* ``NodeDocuments``: the hub sends the same few documents; each is parsed and validated
  once (keyed by its text, at most ``DOCUMENTS`` kept) and its parsed, validated tree
  reused — parsing and validation were most of a node's own answer.
* ``NodeEndpoint``: a ``POST`` with a JSON body goes straight to the schema and its
  answer out as JSON by orjson, without Starlette's router and middleware or
  Strawberry's HTTP view; anything else (another method or content type, a body that
  is not a JSON object with a query) goes to Strawberry's view, which answers it as
  before.
* A write call of a keyed mutation (``Govhub-Idempotency``, read once the hub token
  verified) writes the key's record with its effect, in the node's transaction, by the
  hub's own hooks (``levels/idempotency/records.py``); the answer says so
  (``Govhub-Idempotency-Effect``: the effect's reference). A key already recorded here
  is not applied again: the call is answered IDEMPOTENCY_IN_PROGRESS, which the hub
  turns into the first request's answer (``gateway/idempotency.py``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import orjson
from graphql import DocumentNode
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.http import process_result
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from auth.hub_tokens import HubTokenInvalid, HubTokenVerifier
from levels.common.errors import message_for
from levels.common.store import Store
from levels.idempotency import records, service
from levels.idempotency.errors import IdempotencyErrorCode
from schema.node import NodeContext

log = logging.getLogger("govhub.node")

# the documents kept parsed and validated (the hub sends a few dozen at most)
DOCUMENTS = 256
# a verified token is believed for at most this long (a key withdrawn from the hub's
# keys stops being accepted within this time) and no longer than its own end
TOKEN_MEMORY_SECONDS = 60.0
TOKENS = 64


class DocumentCache:
    """The documents of one schema's calls, parsed (by text) and those found valid."""

    def __init__(self, size: int = DOCUMENTS) -> None:
        self.size = size
        self.parsed: dict[str, DocumentNode] = {}
        self.valid: set[str] = set()

    def keep(self, query: str, document: DocumentNode) -> None:
        if len(self.parsed) >= self.size:
            self.parsed.clear()
            self.valid.clear()
        self.parsed[query] = document

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension (a factory, one instance per call) that uses it."""
        return lambda: NodeDocuments(self)


class NodeDocuments(SchemaExtension):
    """Each document text parsed and validated once: later calls with the same text get
    its tree, already found valid. A document that does not parse, or does not validate,
    is not kept (its call is answered as without the cache)."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        known = self.cache.parsed.get(query) if query else None
        if known is not None:
            context.graphql_document = known
        yield
        if known is None and query and context.graphql_document is not None:
            self.cache.keep(query, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        valid = bool(query) and query in self.cache.valid
        if valid and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # validated before: not again
        yield
        if (
            not valid
            and query in self.cache.parsed
            and context.pre_execution_errors == []
            and context.graphql_document is self.cache.parsed[query]
        ):
            self.cache.valid.add(query)


def unauthenticated() -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": "a hub token is required",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        },
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="govhub-node"'},
    )


class HubAuth:
    """The hub token of a call: without a valid one, 401. A verified token is kept until
    its ``exp`` (at most ``TOKEN_MEMORY_SECONDS``)."""

    def __init__(self, verifier: HubTokenVerifier, clock: Callable[[], float] = time.time):
        self.verifier = verifier
        self._clock = clock
        self._believed: dict[str, float] = {}

    async def check(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            log.info("node %s: call refused (no hub token)", self.verifier.node_id)
            return False
        now = self._clock()
        until = self._believed.get(token)
        if until is not None:
            if now < until:
                return True
            del self._believed[token]
        try:
            claims = await self.verifier.verify(token)
        except HubTokenInvalid as exc:
            log.info("node %s: call refused (%s)", self.verifier.node_id, exc)
            return False
        if len(self._believed) >= TOKENS:
            self._believed = {t: u for t, u in self._believed.items() if now < u}
            if len(self._believed) >= TOKENS:
                self._believed.clear()
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            self._believed[token] = min(float(exp), now + TOKEN_MEMORY_SECONDS)
        return True


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands over an already read body once, then waits as the
    server's would (for a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Shortcut(Protocol):
    """A call answered without executing it (``gateway.node_entities.EntityShortcut``):
    its ``shape`` if it has one, and the result, or None to execute it."""

    def shape(self, query: str, operation: str | None) -> Any: ...

    async def answer(
        self, shape: Any, variables: Mapping[str, Any], context: NodeContext
    ) -> dict[str, Any] | None: ...


def _error(code: str, message: str) -> bytes:
    return orjson.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    )


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:  # what orjson does not take (an int beyond 64 bits …)
        return json.dumps(payload, separators=(",", ":")).encode()


class NodeEndpoint:
    """``/graphql``: the hub token, then the call executed and answered (a ``POST`` of
    JSON), or handed to Strawberry's ``view`` (anything else)."""

    def __init__(
        self,
        schema: BaseSchema,
        view: ASGIApp,
        auth: HubAuth,
        make_context: Callable[[str], NodeContext],
        shortcut: Shortcut | None = None,
        store: Store | None = None,
    ) -> None:
        self.schema = schema
        self.view = view
        self.auth = auth
        self.make_context = make_context
        self.shortcut = shortcut
        # the node's store, where a keyed write call's record is written
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.view(scope, receive, send)
            return
        if not await self.auth.check(_header(scope, b"authorization")):
            await unauthenticated()(scope, receive, send)
            return
        keyed = _header(scope, records.HEADER.encode())
        if not keyed or self.store is None:
            # a call in the hub's process sees the hub's contextvars: none of its record
            token = records.pending_var.set(None)
            try:
                await self._call(scope, receive, send)
            finally:
                records.pending_var.reset(token)
            return
        try:
            pending = records.decode(keyed, self.store)
        except ValueError as exc:
            log.info("node: %s", exc)
            await _answer(send, 400, _error("BAD_USER_INPUT", str(exc)), b"application/json")
            return
        if await self._recorded(pending):
            await _answer(send, 200, self._in_progress(scope), b"application/json")
            return
        token = records.pending_var.set(pending)
        held: list[Message] = []

        async def keep(message: Message) -> None:
            held.append(message)

        try:
            await self._call(scope, receive, keep)
        finally:
            pending.closed = True
            records.pending_var.reset(token)
        if pending.committed is None and await self._recorded(pending):
            # a twin call wrote the record first: this one's effect rolled back
            await _answer(send, 200, self._in_progress(scope), b"application/json")
            return
        for message in held:
            if message["type"] == "http.response.start" and pending.effect is not None:
                effect = (records.EFFECT_HEADER.encode(), _dumps(pending.effect))
                message = {**message, "headers": [*message.get("headers", []), effect]}
            await send(message)

    async def _recorded(self, pending: records.Pending) -> bool:
        """Whether the key has a live record in this node's store."""
        assert self.store is not None
        async with self.store.sessions() as session:
            found = await service.find(
                session, pending.client, pending.operation, pending.key, pending.created_at
            )
        return found is not None

    def _in_progress(self, scope: Scope) -> bytes:
        code = IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS
        english = _header(scope, b"accept-language").lower().startswith("en")
        return _error(code.value, message_for(code, "en" if english else "zh"))

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST" or not _header(scope, b"content-type").startswith(
            "application/json"
        ):
            await self.view(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            call = orjson.loads(body)
        except orjson.JSONDecodeError:
            call = None
        query = call.get("query") if isinstance(call, dict) else None
        variables = call.get("variables") if isinstance(call, dict) else None
        name = call.get("operationName") if isinstance(call, dict) else None
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(name, str | None)
            or (isinstance(call, dict) and call.get("extensions") is not None)
        ):
            await self.view(scope, _replay(body), send)
            return
        language = _header(scope, b"accept-language")
        locale = "en" if language.lower().startswith("en") else "zh"
        shortcut = self.shortcut
        shape = shortcut.shape(query, name) if shortcut is not None else None
        if shortcut is not None and shape is not None and variables is not None:
            context = self.make_context(locale)
            try:
                found = await shortcut.answer(shape, variables, context)
            finally:
                await context.close()
            if found is not None:
                await _answer(send, 200, _dumps(found), b"application/json")
                return
        context = self.make_context(locale)
        try:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context, operation_name=name
            )
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            await self.view(scope, _replay(body), send)
            return
        await _answer(send, 200, _dumps(process_result(result)), b"application/json")
