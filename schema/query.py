"""The root Query. Field names are a contract (DESIGN §6): add, don't rename."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from auth.permissions import IsAuthenticated
from levels.evaluations.enums import RollupDimension
from resolvers import (
    audit,
    cases,
    catalogue,
    evaluation_lists,
    identity,
    languages,
    licences,
    nodes,
    proxy,
    publicity,
    routing,
    window_queries,
)
from resolvers import notices as notice_resolvers
from resolvers import outbox as outbox_resolvers
from resolvers import publication as publication_resolvers
from resolvers import supervision as supervision_resolvers
from schema.audit import AuditEvent, AuditFilter, AuditTrail
from schema.case_inputs import CaseFilter
from schema.cases import CaseType
from schema.divisions import Division, Window
from schema.enums import Level
from schema.evaluations import (
    ComplaintFilter,
    ComplaintType,
    RatingRollupFilter,
    RatingTally,
    RectificationFilter,
    RectificationType,
)
from schema.filters import ImplementationFilter, MatterFilter
from schema.identity import ViewerType
from schema.info import Info
from schema.licences import ELicenceType, LicenceFilter, LicenceTypeType, LicenceVerification
from schema.matters import Delegation, Matter, MatterImplementation, ServiceRoute
from schema.notices import NoticeVerification
from schema.outbox import OutboxMessageFilter, OutboxMessageType
from schema.proxy import ProxyAuthorizationFilter, ProxyAuthorizationType, VillageLedgerEntry
from schema.publication import CataloguePublication
from schema.publicity import PublicDecision
from schema.ready_cases import ready_cases
from schema.relay import Connection, Node
from schema.report_operations import ReportQuery
from schema.supervision import SupervisionReport
from schema.windows import AppointmentSlotType, AppointmentType, TicketType


@strawberry.type(
    description=(
        "Every read: the catalogue and routes, cases, licences, windows, "
        "ratings, supervision, audit"
    )
)
class Query(ReportQuery):
    @strawberry.field(description="Any object by its global ID")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await nodes.node(info, id)

    @strawberry.field(description="Who is signed in (null when nobody is)")
    async def me(self, info: Info) -> ViewerType | None:
        return await identity.me(info)

    @strawberry.field(
        description="A case by its number, wherever it is (null when there is none); "
        "staff reads are audited"
    )
    async def case(self, info: Info, number: str) -> CaseType | None:
        return await cases.case(info, number)

    @strawberry.field(
        description="许可结果公开: decided cases of a division and everything below it, by "
        "number — the matter, the org, the decision and its day, the applicant (an "
        "enterprise's name, a person's masked); for anyone, signed in or not"
    )
    async def public_decisions(
        self,
        info: Info,
        division_code: str,
        matter: Annotated[
            str | None, strawberry.argument(description="A matter's basic code (基本编码)")
        ] = None,
        from_: Annotated[
            dt.date | None,
            strawberry.argument(name="from", description="Decided on or after (China date)"),
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Decided on or before")
        ] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[PublicDecision]:
        return await publicity.public_decisions(
            info, division_code, matter, from_, to, first, after
        )

    @strawberry.field(
        description="Cases the viewer may see: an applicant's own (my cases), an agent's "
        "proxied ones, staff and auditors' jurisdiction; ordered by number"
    )
    async def cases(
        self,
        info: Info,
        filter: CaseFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CaseType]:
        page = await cases.cases(info, filter, first, after)
        await ready_cases(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(
        description="A case's audit trail and whether its node's chain verifies "
        "(auditors, supervisors)"
    )
    async def audit_trail(self, info: Info, case_number: str) -> AuditTrail:
        return await audit.audit_trail(info, case_number)

    @strawberry.field(description="Audited actions within the viewer's jurisdiction")
    async def audit_events(
        self,
        info: Info,
        filter: AuditFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        return await audit.audit_events(info, filter, first, after)

    @strawberry.field(description="A division by its 12-digit code; null when there is none")
    async def division(self, info: Info, code: str) -> Division | None:
        return await catalogue.division(info, code)

    @strawberry.field(
        description="Divisions ordered by code: children of parentCode, or every division at "
        "level (below parentCode when both are given)"
    )
    async def divisions(
        self,
        info: Info,
        parent_code: str | None = None,
        level: Level | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Division]:
        return await catalogue.divisions(info, parent_code, level, first, after)

    @strawberry.field(description="The matter catalogue (基本目录), ordered by basic code")
    async def matters(
        self,
        info: Info,
        filter: MatterFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Matter]:
        return await catalogue.matters(info, filter, first, after)

    @strawberry.field(
        description="清单公布: every published version of the catalogue, newest first (or the "
        "one asked for), each with the matters as published — public"
    )
    async def catalogue_versions(
        self, info: Info, version: int | None = None
    ) -> list[CataloguePublication]:
        return await publication_resolvers.versions(info, version)

    @strawberry.field(
        description="Implementation lists (实施清单) of every level, merged in order of "
        "division code and basic code"
    )
    async def matter_implementations(
        self,
        info: Info,
        filter: ImplementationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[MatterImplementation]:
        return await catalogue.matter_implementations(info, filter, first, after)

    @strawberry.field(
        description="Every matter a resident of the division can do: where it is decided, "
        "where it can be handed in, the way it travels"
    )
    async def service_routes(
        self,
        info: Info,
        division_code: str,
        keyword: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ServiceRoute]:
        return await routing.service_routes(info, division_code, keyword, first, after)

    @strawberry.field(description="Delegations of county matters to towns")
    async def delegations(
        self,
        info: Info,
        to_division_code: str | None = None,
        from_division_code: str | None = None,
        active_only: bool | None = None,
    ) -> list[Delegation]:
        return await catalogue.delegations(info, to_division_code, from_division_code, active_only)

    @strawberry.field(
        description="Cross-level messages of the viewer's jurisdiction from every store's "
        "outbox, oldest first: where each handoff stands; FAILED ones are incidents "
        "(staff, auditors)"
    )
    async def outbox_messages(
        self,
        info: Info,
        filter: OutboxMessageFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OutboxMessageType]:
        return await outbox_resolvers.outbox_messages(info, filter, first, after)

    @strawberry.field(
        description="代办授权 the viewer may see: a resident's own (in every village), an "
        "agent's village's, staff and auditors' jurisdiction; in the order given"
    )
    async def proxy_authorizations(
        self,
        info: Info,
        filter: ProxyAuthorizationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ProxyAuthorizationType]:
        return await proxy.authorizations(info, filter, first, after)

    @strawberry.field(
        description="台账 of a village station: the cases it received (编号, 受理日期, 申办事项, "
        "申办人, 联系电话, 办件状态 where the case is now), by number; for its agents, and "
        "staff and auditors whose jurisdiction covers the village"
    )
    async def village_ledger(
        self,
        info: Info,
        division_code: str,
        from_: Annotated[
            dt.date | None,
            strawberry.argument(name="from", description="Received on or after (China date)"),
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Received on or before")
        ] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[VillageLedgerEntry]:
        return await proxy.village_ledger(info, division_code, from_, to, first, after)

    @strawberry.field(
        description="电子证照 of the library the viewer may see: a holder's own (the wallet), "
        "what staff's and auditors' jurisdiction issued; in the order issued"
    )
    async def licences(
        self,
        info: Info,
        filter: LicenceFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ELicenceType]:
        return await licences.licences(info, filter, first, after)

    @strawberry.field(description="One library licence by identifier (null when not yours)")
    async def licence(self, info: Info, identifier: str) -> ELicenceType | None:
        return await licences.licence(info, identifier)

    @strawberry.field(description="证照类型: the licence types and their fields (public)")
    async def licence_types(self, info: Info) -> list[LicenceTypeType]:
        return await licences.licence_types(info)

    @strawberry.field(
        description="验证 a presented licence or 加注件 (the token, or what its QR code "
        "holds): signature by the issuer's key, validity, and its status now — for "
        "anyone, signed in or not"
    )
    async def verify_licence(self, info: Info, token: str) -> LicenceVerification:
        return await licences.verify(info, token)

    @strawberry.field(
        description="验证 a presented notice (通知书; the token its QR code holds): signed by "
        "the key of the org it names, and on record there — for anyone, signed in or not"
    )
    async def verify_notice(self, info: Info, token: str) -> NoticeVerification:
        return NoticeVerification.from_check(await notice_resolvers.verify(info, token))

    @strawberry.field(
        description="好差评 rolled up per staff member, window, department, org or matter "
        "(counts per level, 差评 rate) over every level of the supervisor's or auditor's "
        "jurisdiction; ratings whose appeal was upheld are left out"
    )
    async def rating_rollup(
        self, info: Info, by: RollupDimension, filter: RatingRollupFilter | None = None
    ) -> list[RatingTally]:
        return await evaluation_lists.rating_rollup(info, by, filter)

    @strawberry.field(
        description="整改 of 差评 the viewer may see, soonest due first (at most 100); "
        "overdue: true finds those the worker's pass flagged past their deadline"
    )
    async def rectifications(
        self, info: Info, filter: RectificationFilter | None = None
    ) -> list[RectificationType]:
        return await evaluation_lists.rectifications(info, filter)

    @strawberry.field(
        description="投诉 the viewer may see: their own, or their jurisdiction's for "
        "supervisors, admins and auditors; newest first (at most 100)"
    )
    async def complaints(
        self, info: Info, filter: ComplaintFilter | None = None
    ) -> list[ComplaintType]:
        return await evaluation_lists.complaints(info, filter)

    @strawberry.field(
        description="窗口: an org's windows (by its division code or credit code), each with "
        "its A/B posts, opening hours, whether it is open now and today's queue — public"
    )
    async def windows(
        self,
        info: Info,
        org_code: str,
        language: Annotated[
            str | None,
            strawberry.argument(
                description="藏汉双语: only the windows serving in this language (zh, bo …)"
            ),
        ] = None,
    ) -> list[Window]:
        found = await window_queries.windows(info, org_code)
        return await languages.serving(info, found, language) if language else found

    @strawberry.field(
        description="预约时段 of an org (or one window) on a day, with the seats left — public"
    )
    async def appointment_slots(
        self, info: Info, org_code: str, date: dt.date, window_id: strawberry.ID | None = None
    ) -> list[AppointmentSlotType]:
        return await window_queries.appointment_slots(info, org_code, date, window_id)

    @strawberry.field(
        description="The viewer's queue tickets of the last week, newest first",
        permission_classes=[IsAuthenticated],
    )
    async def my_tickets(self, info: Info) -> list[TicketType]:
        return await window_queries.my_tickets(info)

    @strawberry.field(
        description="The viewer's appointments (from a week ago on), soonest first",
        permission_classes=[IsAuthenticated],
    )
    async def my_appointments(self, info: Info) -> list[AppointmentType]:
        return await window_queries.my_appointments(info)

    @strawberry.field(
        description="电子监察 figures (月报表) of a division and everything below it, per "
        "org, per level and in total: received, accepted, completed, on time, 即办, "
        "promised-limit compression, online, on the spot, 最多跑一次, cards, 好差评, "
        "complaints (auditors; supervisors, admins and directors of the jurisdiction)"
    )
    async def supervision(
        self,
        info: Info,
        division_code: str,
        from_: Annotated[
            dt.date | None,
            strawberry.argument(
                name="from", description="First day (China date); default: the 1st of the month"
            ),
        ] = None,
        to: Annotated[
            dt.date | None, strawberry.argument(description="Last day, included; default: today")
        ] = None,
    ) -> SupervisionReport:
        return await supervision_resolvers.supervision(info, division_code, from_, to)
