"""The audit trail in the schema: events, a case's trail, whether each division's chain
still verifies, and the hand-over links between them."""

from __future__ import annotations

import datetime as dt

import orjson
import strawberry

from auth.policy import Resource, Target
from levels.audit.chain import ChainReport
from levels.audit.links import LinkReport
from levels.audit.models import AuditEvent as AuditEventRow
from levels.common.errors import DomainError, ErrorCode
from schema.enums import Level


def audit_target(case_number: str | None) -> Target:
    # a case number starts with the receiving division's code
    return Target(Resource.AUDIT, division_code=(case_number or "")[:12] or None)


@strawberry.type(description="One audited action: who, when, what, before → after")
class AuditEvent:
    division_code: str = strawberry.field(
        description="The division whose chain holds it (000000000000: the node's own events)"
    )
    seq: int = strawberry.field(description="Position in its division's chain")
    at: dt.datetime = strawberry.field(description="When it happened")
    level: Level = strawberry.field(description="The level whose store holds it")
    actor_id: str = strawberry.field(description="The account (or SYSTEM) that acted")
    actor_kind: str = strawberry.field(
        description="The kind of account: PERSON, STAFF, AGENT, AUDITOR, SERVICE or SYSTEM"
    )
    role: str | None = strawberry.field(description="The post the actor acted in")
    channel: str | None = strawberry.field(description="The channel of the actor's session")
    org_code: str | None = strawberry.field(description="The org the actor acted for")
    action: str = strawberry.field(description="What was done, e.g. ACCEPT, DECIDE, REFER, READ")
    case_number: str | None = strawberry.field(description="The number of the case it concerns")
    before: str | None = strawberry.field(description="The status before")
    after: str | None = strawberry.field(description="The status after")
    detail: str = strawberry.field(description="JSON")
    request_id: str | None = strawberry.field(description="The request's `X-Request-Id`")
    prev_hash: str = strawberry.field(
        description="The hash of the previous event of its division's chain"
    )
    hash: str = strawberry.field(description="H(prevHash ‖ this event): the chain link")

    def authz_target(self) -> Target:
        return audit_target(self.case_number)

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        level = Level(row.level)
        return cls(
            division_code=row.division_code,
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


@strawberry.type(
    description="Whether a division's hash chain in a node still verifies, and where not"
)
class ChainStatus:
    level: Level = strawberry.field(description="The node whose chain this is")
    division_code: str | None = strawberry.field(
        description="The division whose chain this is (its segment of a case's trail)"
    )
    valid: bool = strawberry.field(description="Every link recomputes and the head matches")
    events: int = strawberry.field(description="Events in the chain")
    first_bad_seq: int | None = strawberry.field(
        description="The first tampered, missing or reordered event"
    )
    problem: str | None = strawberry.field(
        description="TAMPERED, BROKEN_LINK, GAP, HEAD_MISMATCH or BAD_SIGNATURE"
    )
    head_signed: bool = strawberry.field(
        description="The head carries a valid signature of the hub"
    )

    @classmethod
    def of(cls, level: Level, report: ChainReport) -> ChainStatus:
        return cls(
            level=level,
            division_code=report.division_code,
            valid=report.valid,
            events=report.events,
            first_bad_seq=report.first_bad_seq,
            problem=report.problem,
            head_signed=report.head_signed,
        )


@strawberry.type(
    description="Where a case was handed from one division to another: the receiving "
    "division's first event of it records the hash of the sender's hand-over event"
)
class HandoverLink:
    level: Level = strawberry.field(description="The node that received the case")
    division_code: str = strawberry.field(description="The division that received it")
    seq: int = strawberry.field(description="The receiving event, in its division's chain")
    from_level: str = strawberry.field(description="The node that handed it over")
    from_division_code: str = strawberry.field(description="The division that handed it over")
    from_seq: int = strawberry.field(
        description="The hand-over event, in the sender's division's chain"
    )
    valid: bool = strawberry.field(
        description="The sender's event is there with the hash the receiver recorded"
    )
    problem: str | None = strawberry.field(
        description="MISSING (no such event at the sender, or its node did not answer), "
        "HASH_MISMATCH or MALFORMED"
    )

    @classmethod
    def of(cls, report: LinkReport) -> HandoverLink:
        c = report.claim
        return cls(
            level=Level(c.level),
            division_code=c.division,
            seq=c.seq,
            from_level=c.from_level,
            from_division_code=c.from_division,
            from_seq=c.from_seq,
            valid=report.valid,
            problem=report.problem,
        )


@strawberry.type(
    description="A case's audit trail at every node it passed through, and each division's chain"
)
class AuditTrail:
    case_number: str = strawberry.field(description="The case")
    events: list[AuditEvent] = strawberry.field(
        description="The events of every node the case passed through, oldest first"
    )
    chains: list[ChainStatus] = strawberry.field(
        description="The chain of each division that holds events of the case, in each "
        "node (the receiving node's first), each verified from its genesis; a node that "
        "does not answer is left out and reported in extensions.unavailable"
    )
    links: list[HandoverLink] = strawberry.field(
        description="Each hand-over of the case between divisions, checked against the "
        "sender's event"
    )
    received_level: strawberry.Private[Level]

    @strawberry.field(
        description="Every segment of the trail verifies and every hand-over link holds "
        "(of the nodes that answered)"
    )
    def valid(self) -> bool:
        return all(c.valid for c in self.chains) and all(link.valid for link in self.links)

    def authz_target(self) -> Target:
        return audit_target(self.case_number)

    @strawberry.field(
        description="The chain of the node that received the case",
        deprecation_reason="The trail spans every node the case passed through: use chains",
    )
    def chain(self) -> ChainStatus:
        for status in self.chains:
            if (
                status.level is self.received_level
                and status.division_code == (self.case_number[:12])
            ):
                return status
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=self.received_level.value)


@strawberry.input(description="Which audit events to list")
class AuditFilter:
    level: Level | None = strawberry.field(default=None, description="Only this level's store")
    division_code: str | None = strawberry.field(
        default=None, description="Events of cases of this division and everything below it"
    )
    case_number: str | None = strawberry.field(default=None, description="The case number")
    action: str | None = strawberry.field(default=None, description="Only this action, e.g. DECIDE")
    actor_id: str | None = strawberry.field(default=None, description="Only this actor's events")
    from_: dt.datetime | None = strawberry.field(
        default=None, name="from", description="At or after this instant"
    )
    to: dt.datetime | None = strawberry.field(default=None, description="Before this instant")
