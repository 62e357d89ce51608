"""A keyed mutation's record at a node with an address: the hub reads a key's record
here (``idempotencyRecord``), saves the response to the record a write call wrote with
its effect (``saveIdempotentResponse``), and keeps the record of a mutation that wrote
nothing (``keepIdempotencyRecord``), as it does by SQL in a store it shares
(``gateway/idempotency.py``). Records are JSON (``levels/idempotency/records.py``:
``to_json``; the response base64). Merged into the node's ``Query`` and ``Mutation``."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.errors import DomainError, ErrorCode
from levels.idempotency import records, service
from schema.node.types import NodeInfo

Client = Annotated[str, strawberry.argument(description="The token's subject of the request")]
Operation = Annotated[str, strawberry.argument(description="The mutation's root fields")]
Key = Annotated[str, strawberry.argument(description="The Idempotency-Key")]


@strawberry.type(name="IdempotencyQuery", description="A keyed mutation's record, here")
class IdempotencyQueries:
    @strawberry.field(
        description="The live record of a key (none: not here, or expired at `now`), as "
        "JSON: fingerprint, effect, statusCode, contentType, response (base64) …"
    )
    async def idempotency_record(
        self, info: NodeInfo, client: Client, operation: Operation, key: Key, now: dt.datetime
    ) -> JSON | None:
        async with info.context.sessions() as session:
            found = await service.find(session, client, operation, key, now)
        return None if found is None else cast(JSON, records.to_json(found))


@strawberry.type(name="IdempotencyMutation", description="A keyed mutation's record, here")
class IdempotencyMutations:
    @strawberry.mutation(
        description="Save the response (base64) to the record a write call wrote with its "
        "effect; false when there is none"
    )
    async def save_idempotent_response(
        self,
        info: NodeInfo,
        client: Client,
        operation: Operation,
        key: Key,
        status_code: int,
        content_type: str,
        response: str,
    ) -> bool:
        try:
            body = base64.b64decode(response, validate=True)
        except (binascii.Error, ValueError):
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["response"]) from None
        async with info.context.sessions.begin() as session:
            return await service.save_response(
                session,
                client,
                operation,
                key,
                status_code=status_code,
                content_type=content_type[:128],
                body=body,
            )

    @strawberry.mutation(
        description="Keep the record of a mutation that wrote nothing, with its response; "
        "false when the key has a live record here already (a twin request's)"
    )
    async def keep_idempotency_record(self, info: NodeInfo, record: JSON) -> bool:
        try:
            kept = records.of_json(record)
        except ValueError as exc:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["record"], detail=str(exc)) from None
        async with info.context.sessions() as session:
            return await service.keep(session, kept)
