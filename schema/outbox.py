"""Cross-level messages in the schema: where each handoff between two level stores
stands (PENDING → DELIVERED → ACKNOWLEDGED, or FAILED: an incident), and sending a
FAILED one again."""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.policy import Resource, Target
from levels.outbox.models import OutboxMessage as OutboxMessageRow
from schema.enums import Level, MessageState
from schema.payloads import UserError


def message_target(division_code: str | None) -> Target:
    return Target(Resource.MESSAGE, division_code=division_code)


@strawberry.type(
    name="OutboxMessage",
    description="A write that crosses levels, from its source store's outbox to its "
    "target store (applied there once, with the message id in its inbox)",
)
class OutboxMessageType:
    id: strawberry.ID = strawberry.field(
        description="The message id; the handoff's audit events name it"
    )
    topic: str = strawberry.field(description="What it carries, e.g. case.referred")
    source_level: Level = strawberry.field(description="The store that wrote it")
    target_level: Level = strawberry.field(description="The store it is applied in")
    case_number: str | None = strawberry.field(description="The case it carries, if any")
    division_code: str = strawberry.field(
        description="Where it belongs: its case's division, else its source org's"
    )
    state: MessageState = strawberry.field(
        description="PENDING, SENT, DELIVERED, ACKNOWLEDGED, FAILED or DEAD (given up)"
    )
    attempts: int = strawberry.field(
        description="Failed attempts so far (a store that was down does not count)"
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed")
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When a PENDING message is tried next"
    )
    created_at: dt.datetime = strawberry.field(description="When the source wrote it")
    delivered_at: dt.datetime | None = strawberry.field(
        description="When it was applied in the target"
    )
    acknowledged_at: dt.datetime | None = strawberry.field(
        description="When the source saw the target's inbox record"
    )

    def authz_target(self) -> Target:
        return message_target(self.division_code)

    @classmethod
    def from_row(cls, row: OutboxMessageRow) -> OutboxMessageType:
        return cls(
            id=strawberry.ID(row.id),
            topic=row.topic,
            source_level=row.source_level,
            target_level=row.target_level,
            case_number=row.case_number,
            division_code=row.division_code,
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.state is MessageState.PENDING else None,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            acknowledged_at=row.acknowledged_at,
        )


@strawberry.input(description="Which cross-level messages to list")
class OutboxMessageFilter:
    state: MessageState | None = strawberry.field(default=None, description="Only in this state")
    case_number: str | None = strawberry.field(default=None, description="Only about this case")
    level: Level | None = strawberry.field(
        default=None, description="Messages sent from or to this level"
    )


@strawberry.input(description="A FAILED cross-level message to send again")
class RetryMessageInput:
    id: strawberry.ID = strawberry.field(description="The message's global ID")


@strawberry.type(description="The message as it now stands, or why it was not retried")
class RetryMessagePayload:
    message: OutboxMessageType | None = strawberry.field(description="The message, PENDING again")
    errors: list[UserError] = strawberry.field(
        description=("Expected failures with their codes; empty when the mutation took effect")
    )
