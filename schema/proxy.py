"""The village proxy service (代办) in the schema: residents' authorizations of a
village station's agents, their inputs and payload, and the station's ledger (台账)."""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.policy import Resource, Target
from levels.cases.models import Case as CaseRow
from levels.cases.service import china_date
from levels.proxy.models import ProxyAuthorization as AuthorizationRow
from levels.proxy.service import status_of
from schema.divisions import Division
from schema.enums import (
    AuthorizationMethod,
    AuthorizationStatus,
    CaseStatus,
    Level,
    VillageServiceMode,
)
from schema.info import Info
from schema.matters import Matter
from schema.payloads import UserError
from schema.village import VillageServiceFields


def authorization_target(row: AuthorizationRow) -> Target:
    return Target(
        Resource.PROXY_AUTHORIZATION,
        division_code=row.village_code,
        owner=row.resident_id,
        submitter=row.agent_id or None,
    )


def ledger_target(village_code: str) -> Target:
    return Target(Resource.VILLAGE_LEDGER, division_code=village_code)


@strawberry.type(
    name="ProxyAuthorization",
    description="代办授权: a resident lets the agents of a village station handle one matter",
)
class ProxyAuthorizationType:
    id: strawberry.ID = strawberry.field(description="The authorization's global ID")
    village_code: str = strawberry.field(description="The village whose station may act on it")
    basic_code: str = strawberry.field(description="The matter authorized")
    resident_name: str = strawberry.field(description="The resident who gave it")
    resident_id_masked: str = strawberry.field(description="Masked: never the full number")
    phone: str = strawberry.field(description="联系电话, as the ledger lists it")
    scope: str = strawberry.field(description="授权范围, in the resident's words")
    mode: VillageServiceMode = strawberry.field(description="The service mode it allows")
    method: AuthorizationMethod = strawberry.field(
        description="WRITTEN or IN_PERSON (recorded by an agent), MOBILE (in the app)"
    )
    granted_at: dt.datetime = strawberry.field(description="When it was given")
    expires_on: dt.date = strawberry.field(description="The last day it may be used")
    revoked_at: dt.datetime | None = strawberry.field(description="When it was revoked")
    recorded_by_agent: bool = strawberry.field(
        description="Recorded by an agent of the station (false: given in the app)"
    )
    row: strawberry.Private[AuthorizationRow]

    def authz_target(self) -> Target:
        return authorization_target(self.row)

    @classmethod
    def from_row(cls, row: AuthorizationRow) -> ProxyAuthorizationType:
        return cls(
            id=strawberry.ID(row.id),
            village_code=row.village_code,
            basic_code=row.basic_code,
            resident_name=row.resident_name,
            resident_id_masked=row.resident_id_masked,
            phone=row.phone,
            scope=row.scope,
            mode=row.mode,
            method=row.method,
            granted_at=row.granted_at,
            expires_on=row.expires_on,
            revoked_at=row.revoked_at,
            recorded_by_agent=bool(row.agent_id),
            row=row,
        )

    @strawberry.field(description="ACTIVE, EXPIRED or REVOKED, as of today")
    def status(self, info: Info) -> AuthorizationStatus:
        return status_of(self.row, china_date(info.context.clock.now()))

    @strawberry.field(description="The village whose station's agents may act on it")
    async def village(self, info: Info) -> Division | None:
        row = await info.context.loaders.division_by_code.load(self.village_code)
        return Division.from_row(row) if row else None

    @strawberry.field(description="The matter it covers")
    async def matter(self, info: Info) -> Matter | None:
        row = await info.context.loaders.matter_by_code.load(self.basic_code)
        return Matter.from_row(row) if row else None


@strawberry.type(description="The authorization as it now stands, or why nothing changed")
class ProxyAuthorizationPayload:
    authorization: ProxyAuthorizationType | None = strawberry.field(
        default=None, description="The authorization, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.input(description="An agent records a resident's written or in-person authorization")
class RecordProxyAuthorizationInput:
    resident_id_number: str = strawberry.field(description="The resident's 18-digit ID number")
    basic_code: str = strawberry.field(description="The matter, by its basic code")
    scope: str = strawberry.field(description="授权范围, as the resident worded it")
    mode: VillageServiceMode = strawberry.field(description="The village service mode it allows")
    method: AuthorizationMethod = strawberry.field(description="WRITTEN or IN_PERSON")
    expires_on: dt.date = strawberry.field(description="Today to one year on")
    phone: str = strawberry.field(description="The resident's phone number")


@strawberry.input(
    description="A resident, in the app, authorizes the agents of a village station (any "
    "of them may act on it: A/B posts)"
)
class AuthorizeProxyInput:
    village_code: str = strawberry.field(description="The village whose station acts")
    basic_code: str = strawberry.field(description="The matter the station may handle")
    scope: str = strawberry.field(description="What the agents may do, in the resident's words")
    mode: VillageServiceMode = strawberry.field(
        description="The village service mode: 即时办理, 全程代办, 陪同办理 or 上门办理"
    )
    expires_on: dt.date = strawberry.field(description="Today to one year on")
    phone: str = strawberry.field(description="The phone number the ledger lists")


@strawberry.input(description="A proxy authorization to revoke")
class RevokeProxyAuthorizationInput:
    id: strawberry.ID = strawberry.field(description="The authorization's global ID")


@strawberry.input(description="Which proxy authorizations to list")
class ProxyAuthorizationFilter:
    village_code: str | None = strawberry.field(default=None, description="Only this village's")
    basic_code: str | None = strawberry.field(default=None, description="Only for this matter")
    status: AuthorizationStatus | None = strawberry.field(
        default=None, description="ACTIVE, EXPIRED or REVOKED"
    )
    resident_id_number: str | None = strawberry.field(
        default=None, description="Agents, staff, auditors: the resident who gave them"
    )


@strawberry.type(
    description="台账: one case a village station received — 编号, 受理日期, 申办事项, 申办人, "
    "联系电话, 办件状态 (where the case is now, once referred up)"
)
class VillageLedgerEntry(VillageServiceFields):
    number: str = strawberry.field(description="编号: the case number")
    received_on: dt.date = strawberry.field(description="受理日期: the day the station received it")
    matter_name: str = strawberry.field(description="申办事项: the matter")
    basic_code: str = strawberry.field(description="The matter's basic code")
    applicant_name: str = strawberry.field(description="申办人: the applicant")
    applicant_id_masked: str = strawberry.field(description="Masked: never the full number")
    phone: str | None = strawberry.field(
        description="From the authorization; null for a case the resident handed in"
    )
    channel: str = strawberry.field(description="How it arrived (PROXY for an agent's application)")
    proxied: bool = strawberry.field(description="Handed in by an agent (代办)")
    status: CaseStatus = strawberry.field(description="Where the case is now: its status there")
    level: Level = strawberry.field(description="The level that holds the case now")
    village_code: strawberry.Private[str]

    def authz_target(self) -> Target:
        return ledger_target(self.village_code)

    @classmethod
    def of(cls, received: CaseRow, now: CaseRow) -> VillageLedgerEntry:
        """The row the village holds, with the status of ``now``: the same row, or the
        one of the store that holds the case today."""
        return cls(
            number=received.number,
            received_on=china_date(received.submitted_at),
            matter_name=received.matter_name,
            basic_code=received.basic_code,
            applicant_name=received.applicant_name,
            applicant_id_masked=received.applicant_id_masked,
            phone=received.applicant_phone,
            channel=received.channel,
            proxied=received.proxy_authorization_id is not None,
            status=now.status,
            level=now.level,
            village_code=received.division_code,
        )
