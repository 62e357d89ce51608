"""The audit trail in the schema: events, a case's trail, and whether a node's chain
still verifies."""

from __future__ import annotations

import datetime as dt

import orjson
import strawberry

from auth.policy import Resource, Target
from levels.audit.chain import ChainReport
from levels.audit.models import AuditEvent as AuditEventRow
from levels.common.errors import DomainError, ErrorCode
from schema.enums import Level


def audit_target(case_number: str | None) -> Target:
    # a case number starts with the receiving division's code
    return Target(Resource.AUDIT, division_code=(case_number or "")[:12] or None)


@strawberry.type(description="One audited action: who, when, what, before → after")
class AuditEvent:
    seq: int = strawberry.field(description="Position in the node's chain")
    at: dt.datetime
    level: Level
    actor_id: str
    actor_kind: str
    role: str | None
    channel: str | None
    org_code: str | None
    action: str
    case_number: str | None
    before: str | None
    after: str | None
    detail: str = strawberry.field(description="JSON")
    request_id: str | None
    prev_hash: str
    hash: str

    def authz_target(self) -> Target:
        return audit_target(self.case_number)

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        level = Level(row.level)
        return cls(
            seq=row.seq,
            at=row.at,
            level=level,
            actor_id=row.actor_id,
            actor_kind=row.actor_kind,
            role=row.role,
            channel=row.channel,
            org_code=row.org_code,
            action=row.action,
            case_number=row.case_number,
            before=row.before,
            after=row.after,
            detail=orjson.dumps(row.detail, option=orjson.OPT_SORT_KEYS).decode(),
            request_id=row.request_id,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type(description="Whether a node's hash chain still verifies, and where not")
class ChainStatus:
    level: Level
    valid: bool
    events: int
    first_bad_seq: int | None = strawberry.field(
        description="The first tampered, missing or reordered event"
    )
    problem: str | None = strawberry.field(
        description="TAMPERED, BROKEN_LINK, GAP, HEAD_MISMATCH or BAD_SIGNATURE"
    )
    head_signed: bool

    @classmethod
    def of(cls, level: Level, report: ChainReport) -> ChainStatus:
        return cls(
            level=level,
            valid=report.valid,
            events=report.events,
            first_bad_seq=report.first_bad_seq,
            problem=report.problem,
            head_signed=report.head_signed,
        )


@strawberry.type(
    description="A case's audit trail at every node it passed through, and each node's chain"
)
class AuditTrail:
    case_number: str
    events: list[AuditEvent] = strawberry.field(
        description="The events of every node the case passed through, oldest first"
    )
    chains: list[ChainStatus] = strawberry.field(
        description="The chain of each node that holds events of the case (the receiving "
        "node's first), each verified from its genesis; a node that does not answer is "
        "left out and reported in extensions.unavailable"
    )
    received_level: strawberry.Private[Level]

    def authz_target(self) -> Target:
        return audit_target(self.case_number)

    @strawberry.field(
        description="The chain of the node that received the case",
        deprecation_reason="The trail spans every node the case passed through: use chains",
    )
    def chain(self) -> ChainStatus:
        for status in self.chains:
            if status.level is self.received_level:
                return status
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=self.received_level.value)


@strawberry.input
class AuditFilter:
    level: Level | None = None
    division_code: str | None = strawberry.field(
        default=None, description="Events of cases of this division and everything below it"
    )
    case_number: str | None = None
    action: str | None = None
    actor_id: str | None = None
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None
