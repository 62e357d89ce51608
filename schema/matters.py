"""Matters: the catalogue (基本目录), implementation lists (实施清单), delegations and
service routes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import strawberry

from auth.policy import Action, Resource, Target, allows
from levels.city.models import Matter as MatterRow
from levels.common import models
from levels.common.reads import ReadRow
from levels.common.routes import Route
from levels.county.service import DelegationView
from resolvers.fanout import NodeUnavailable
from resolvers.globalid import encode_id
from resolvers.pagination import decode_cursor, page_size, slice_page
from resolvers.partial import load_or_report, report_unavailable
from schema.divisions import Department, Division, ServiceOrg
from schema.enums import (
    DeliveryMethod,
    HandlingKind,
    Level,
    MaterialForm,
    MatterStatus,
    MatterType,
    OnlineLevel,
    SpecialProcedureKind,
    VillageServiceMode,
)
from schema.execution import READY_LIST, READY_ONE, UNREADY
from schema.info import Info
from schema.payloads import UserError
from schema.relay import Connection, Node, connection

ALL_LEVELS = list(Level)


@strawberry.type(description="事项: an item of the city's basic catalogue (基本目录)")
class Matter(Node):
    basic_code: str = strawberry.field(description="基本编码, 12 characters")
    name: str = strawberry.field(description="Its name")
    type: MatterType = strawberry.field(description="One of the eight types of matter")
    department: str = strawberry.field(description="The catalogue's responsible department")
    legal_basis: str = strawberry.field(description="The laws and regulations it rests on")
    legal_time_limit_days: int = strawberry.field(description="法定时限, working days")
    status: MatterStatus = strawberry.field(description="Draft, published or abolished")
    version: int = strawberry.field(description="Its version in the catalogue")
    published_batch: str = strawberry.field(description="Publication batch, e.g. 2026-06")
    published_on: dt.date = strawberry.field(description="The day it was published")

    @classmethod
    def from_row(cls, row: MatterRow | ReadRow) -> Matter:
        return cls(
            id=strawberry.ID(encode_id("Matter", Level.CITY, row.basic_code)),
            basic_code=row.basic_code,
            name=row.name,
            type=row.type,
            department=row.department,
            legal_basis=row.legal_basis,
            legal_time_limit_days=row.legal_time_limit_days,
            status=row.status,
            version=row.version,
            published_batch=row.published_batch,
            published_on=row.published_on,
        )

    @strawberry.field(description="Where this matter is implemented, across all levels")
    async def implementations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[MatterImplementation]:
        settings = info.context.settings
        size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
        start = decode_cursor(after, allowed=ALL_LEVELS)
        loader = info.context.loaders.implementations_by_basic_code
        rows = await load_or_report(info, loader, self.basic_code, [])
        # the nodes that did not answer: the others' items are listed
        report_unavailable(info, loader.failed(self.basic_code))
        viewer = info.context.viewer
        rows = [
            r
            for r in rows
            if allows(viewer, Action.READ, implementation_target(r.status, r.division_code))
        ]
        page = slice_page(rows, implementation_key, lambda r: r.level, first=size, start=start)
        return connection(page, MatterImplementation.from_row)


def implementation_target(status: MatterStatus, division_code: str) -> Target:
    """Published items are catalogue; a draft is read only within reach."""
    resource = Resource.DRAFT_ITEM if status is MatterStatus.DRAFT else Resource.CATALOGUE
    return Target(resource, division_code=division_code)


def implementation_key(row: models.MatterImplementation | ReadRow) -> tuple[str, str]:
    """Network-wide order of implementation items: division code, then basic code."""
    return (row.division_code, row.basic_code)


@strawberry.type(description="申请材料: a material the guide asks for")
class Material:
    name: str = strawberry.field(description="The material's name")
    basis: str = strawberry.field(description="Why it is asked for (its legal basis)")
    form: MaterialForm = strawberry.field(description="The form it is asked for in")
    copies: int = strawberry.field(description="How many copies")
    tolerable: bool = strawberry.field(description="容缺: may be handed in after acceptance")
    satisfied_by_licence_type: str | None = strawberry.field(
        description="An e-licence type that replaces this material"
    )

    @classmethod
    def from_row(cls, row: models.ImplementationMaterial | ReadRow) -> Material:
        # the attributes the dataclass's ``__init__`` sets, without the call (a page
        # makes a few hundred: ~1.7 µs a call of six keywords here)
        material = _new(cls)
        material.__dict__.update(zip(_MATERIAL_FIELDS, _material_values(row), strict=True))
        return material


_new = object.__new__
_MATERIAL_FIELDS = (
    "name",
    "basis",
    "form",
    "copies",
    "tolerable",
    "satisfied_by_licence_type",
)
_material_values = attrgetter(*_MATERIAL_FIELDS)


@strawberry.type(description="特殊环节: a step whose time is not counted in the limit")
class SpecialProcedure:
    kind: SpecialProcedureKind = strawberry.field(
        description="The kind of procedure (hearing, expert review, …)"
    )
    time_limit_days: int = strawberry.field(description="Its own limit, in working days")
    basis: str | None = strawberry.field(
        default=None, description="依据: what a procedure of this kind states unless told"
    )


@strawberry.type(description="收费: a fee an implementation item charges")
class Fee:
    name: str = strawberry.field(description="What is charged for")
    amount_yuan: str = strawberry.field(description="The amount, in yuan (a decimal string)")
    basis: str = strawberry.field(description="The legal basis of the fee")


def _special_procedures(row: models.MatterImplementation | ReadRow) -> list[SpecialProcedure]:
    return [
        SpecialProcedure(
            kind=SpecialProcedureKind(p["kind"]),
            time_limit_days=p["timeLimitDays"],
            basis=p.get("basis"),
        )
        for p in row.special_procedures
    ]


def _fees(row: models.MatterImplementation | ReadRow) -> list[Fee]:
    return [Fee(name=f["name"], amount_yuan=f["amountYuan"], basis=f["basis"]) for f in row.fees]


@strawberry.type(description="实施清单事项: how one body implements a catalogue matter")
class MatterImplementation(Node):
    implementation_code: str = strawberry.field(
        description=(
            "`<credit code><level digit><basic code>`: stable, unique, says which node holds it"
        )
    )
    basic_code: str = strawberry.field(description="The matter's basic code")
    level: Level = strawberry.field(description="The level of the body that implements it")
    division_code: str = strawberry.field(description="The division of that body")
    handling_kind: HandlingKind = strawberry.field(
        description="即办件 IMMEDIATE or 承诺件 PROMISED"
    )
    promised_time_limit_days: int = strawberry.field(description="承诺时限, working days")
    promise_exception_reason: str | None = strawberry.field(
        description="Why the promised limit may exceed 50 % of the legal one"
    )
    conditions: str = strawberry.field(description="The conditions an applicant must meet")
    special_procedures: list[SpecialProcedure] = strawberry.field(
        resolver=lambda root: _special_procedures(root.row),
        description="Steps whose time is not counted, with their limits",
    )
    fees: list[Fee] = strawberry.field(
        resolver=lambda root: _fees(root.row), description="What it costs"
    )
    max_visits: int = strawberry.field(description="0 = 一趟不用跑, 1 = 最多跑一次")
    online_level: OnlineLevel = strawberry.field(description="How far it can be done online")
    delivery_methods: list[DeliveryMethod] = strawberry.field(
        resolver=lambda root: [DeliveryMethod(m) for m in root.row.delivery_methods],
        description="How results are handed over",
    )
    village_modes: list[VillageServiceMode] = strawberry.field(
        resolver=lambda root: [VillageServiceMode(m) for m in root.row.village_modes],
        description="What a village station may do for it: 即时办理, 全程代办, 陪同办理, 上门办理",
    )
    receive_levels: list[Level] = strawberry.field(
        resolver=lambda root: [Level(v) for v in root.row.receive_levels],
        description="Levels below this one where a resident may hand the application in",
    )
    preliminary_review: bool = strawberry.field(description="The town reviews first (初审)")
    referral_limit_days: int | None = strawberry.field(
        description="转报时限: working days a case received below has, from receipt, to reach "
        "this org (null: the hub's default)"
    )
    issues_licence_type: str | None = strawberry.field(
        description="The e-licence type (电子证照) an approval issues, if any"
    )
    status: MatterStatus = strawberry.field(description="Draft, published or abolished")
    version: int = strawberry.field(description="Its version")
    org_code: strawberry.Private[str]
    department_id: strawberry.Private[str | None]
    delegated_from_code: strawberry.Private[str | None]
    delegation_id: strawberry.Private[str | None]
    # the row it was read from: the lists above are made from it when a query selects
    # them (a page of 50 items made ~250 lists, and their objects, few queries ask for)
    row: strawberry.Private[Any] = None
    # what the page it is on loaded for all its items (``schema/ready_items.py``):
    # ready values, answered without a resolver call; a list is None, an object
    # UNREADY, until the page sets it
    ready_materials: strawberry.Private[list[Material] | None] = None
    ready_matter: strawberry.Private[Any] = UNREADY
    ready_org: strawberry.Private[Any] = UNREADY
    ready_division: strawberry.Private[Any] = UNREADY
    ready_department: strawberry.Private[Any] = UNREADY
    ready_delegation: strawberry.Private[Any] = UNREADY
    ready_delegated_from: strawberry.Private[Any] = UNREADY

    def authz_target(self) -> Target:
        return implementation_target(self.status, self.division_code)

    @classmethod
    def from_row(cls, row: models.MatterImplementation | ReadRow) -> MatterImplementation:
        # the attributes the dataclass's ``__init__`` sets, without the call of 28
        # keywords; ``id`` made when first read (``__getattr__``): most lists never
        # select it, and each is a base64 global ID
        item = _new(cls)
        attributes = item.__dict__
        attributes.update(_ITEM_DEFAULTS)
        attributes.update(zip(_ITEM_FIELDS, _item_values(row), strict=True))
        attributes["row"] = row
        return item

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name != "id":
                raise AttributeError(name)
            made = self.__dict__["id"] = strawberry.ID(
                encode_id("MatterImplementation", self.division_code, self.implementation_code)
            )
            return made

    # each resolver answers a ready value first: when a schema extension sees every
    # field, the resolver runs even for an item of a page that loaded it

    @strawberry.field(description="The catalogue matter", metadata={READY_ONE: "ready_matter"})
    async def matter(self, info: Info) -> Matter | None:
        if self.ready_matter is not UNREADY:
            return self.ready_matter
        row = await info.context.loaders.matter_by_code.load(self.basic_code)
        return Matter.from_row(row) if row else None

    @strawberry.field(description="The body that implements it", metadata={READY_ONE: "ready_org"})
    async def org(self, info: Info) -> ServiceOrg:
        if self.ready_org is not UNREADY:
            return self.ready_org
        row = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return ServiceOrg.from_row(row)

    @strawberry.field(description="That body's division", metadata={READY_ONE: "ready_division"})
    async def division(self, info: Info) -> Division:
        if self.ready_division is not UNREADY:
            return self.ready_division
        row = await info.context.loaders.division_by_code.load(self.division_code)
        return Division.from_row(row)

    @strawberry.field(
        description="The department that handles it", metadata={READY_ONE: "ready_department"}
    )
    async def department(self, info: Info) -> Department | None:
        if self.ready_department is not UNREADY:
            return self.ready_department
        if self.department_id is None:
            return None
        row = await info.context.loaders.department_by_id.load(self.department_id)
        return Department.from_row(row) if row else None

    @strawberry.field(
        description="The materials the guide asks for", metadata={READY_LIST: "ready_materials"}
    )
    async def materials(self, info: Info) -> list[Material]:
        if self.ready_materials is not None:  # when a schema extension sees every field
            return self.ready_materials
        rows = await info.context.loaders.materials_by_implementation.load(self.implementation_code)
        return [Material.from_row(r) for r in rows]

    @strawberry.field(
        description="The county item this delegated item comes from",
        metadata={READY_ONE: "ready_delegated_from"},
    )
    async def delegated_from(self, info: Info) -> MatterImplementation | None:
        if self.ready_delegated_from is not UNREADY:
            return self.ready_delegated_from
        if self.delegated_from_code is None:
            return None
        row = await info.context.loaders.implementation_by_code.load(self.delegated_from_code)
        return MatterImplementation.from_row(row) if row else None

    @strawberry.field(
        description="The county's delegation, for a town's delegated item",
        metadata={READY_ONE: "ready_delegation"},
    )
    async def delegation(self, info: Info) -> Delegation | None:
        if self.ready_delegation is not UNREADY:
            return self.ready_delegation
        if self.delegation_id is None:
            return None
        view = await info.context.loaders.delegation_by_id.load(self.delegation_id)
        return Delegation.from_view(view) if view else None


# ``MatterImplementation.from_row``: each field and the row's attribute it copies
_ITEM_COLUMNS = (
    ("implementation_code", "code"),
    ("basic_code", "basic_code"),
    ("level", "level"),
    ("division_code", "division_code"),
    ("handling_kind", "handling_kind"),
    ("promised_time_limit_days", "promised_time_limit_days"),
    ("promise_exception_reason", "promise_exception_reason"),
    ("conditions", "conditions"),
    ("max_visits", "max_visits"),
    ("online_level", "online_level"),
    ("preliminary_review", "preliminary_review"),
    ("referral_limit_days", "referral_limit_days"),
    ("issues_licence_type", "issues_licence_type"),
    ("status", "status"),
    ("version", "version"),
    ("org_code", "org_code"),
    ("department_id", "department_id"),
    ("delegated_from_code", "delegated_from"),
    ("delegation_id", "delegation_id"),
)
_ITEM_FIELDS = tuple(field for field, _ in _ITEM_COLUMNS)
_item_values = attrgetter(*(column for _, column in _ITEM_COLUMNS))
# the fields with defaults (the ready values, ``row``), as ``__init__`` sets them
_ITEM_DEFAULTS = {
    f.name: f.default
    for f in dataclasses.fields(MatterImplementation)
    if f.init and f.default is not dataclasses.MISSING
}


@strawberry.type(description="委托/下放: a county hands a matter down to its towns")
class Delegation(Node):
    all_towns: bool = strawberry.field(description="Every town of the county, not a list")
    legal_instrument: str = strawberry.field(description="The legal instrument that delegates it")
    effective_from: dt.date = strawberry.field(description="The first day in force")
    revoked_at: dt.datetime | None = strawberry.field(description="When it was revoked")
    revoke_reason: str | None = strawberry.field(description="Why it was revoked")
    basic_code: str = strawberry.field(description="The matter's basic code")
    view: strawberry.Private[DelegationView]

    @classmethod
    def from_view(cls, view: DelegationView) -> Delegation:
        row = view.row
        return cls(
            id=strawberry.ID(encode_id("Delegation", row.id[:12], row.id)),
            all_towns=row.all_towns,
            legal_instrument=row.legal_instrument,
            effective_from=row.effective_from,
            revoked_at=row.revoked_at,
            revoke_reason=row.revoke_reason,
            basic_code=row.basic_code,
            view=view,
        )

    @strawberry.field(description="In force now: effective and not revoked")
    def in_force(self, info: Info) -> bool:
        return self.view.in_force(info.context.clock.now())

    @strawberry.field(description="The county's item it delegates")
    async def implementation(self, info: Info) -> MatterImplementation | None:
        row = await info.context.loaders.implementation_by_code.load(
            self.view.row.implementation_code
        )
        return MatterImplementation.from_row(row) if row else None

    @strawberry.field(description="The matter")
    async def matter(self, info: Info) -> Matter | None:
        row = await info.context.loaders.matter_by_code.load(self.basic_code)
        return Matter.from_row(row) if row else None

    @strawberry.field(description="The county centre that delegates it")
    async def from_org(self, info: Info) -> ServiceOrg:
        row = await info.context.loaders.service_org_by_code.load(
            (Level.COUNTY, self.view.row.from_org_code)
        )
        return ServiceOrg.from_row(row)

    @strawberry.field(description="The towns named; empty when the delegation is to all towns")
    async def towns(self, info: Info) -> list[Division]:
        try:
            rows = await info.context.loaders.division_by_code.load_many(list(self.view.towns))
        except NodeUnavailable as failure:
            # the town store is down: the delegation itself still arrives
            report_unavailable(info, [failure])
            return []
        return [Division.from_row(r) for r in rows if r is not None]


@strawberry.type(description="The delegation as it now stands, or why nothing changed")
class DelegationPayload:
    delegation: Delegation | None = strawberry.field(
        default=None, description="The delegation, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.input(description="委托/下放: hand a county item down to its towns")
class DelegateMatterInput:
    implementation_code: str = strawberry.field(description="The county's item")
    legal_instrument: str = strawberry.field(description="The decision that delegates it")
    effective_from: dt.date = strawberry.field(
        description="The first day it is in force (today or later)"
    )
    towns: list[str] | None = strawberry.field(
        default=None, description="Town division codes; none: every town of the county"
    )
    town_department: str | None = strawberry.field(
        default=None, description="The towns' department that will handle it, by name"
    )


@strawberry.input(description="End a delegation at once")
class RevokeDelegationInput:
    id: str = strawberry.field(
        description="The delegation's ID (global or e.g. 140702000000-G0002)"
    )
    reason: str = strawberry.field(description="Why it ends")


# the service org of each division of a route's chain, or why its node did not answer
ChainOrgs = dict[str, "models.ServiceOrg | ReadRow | BaseException"]


@strawberry.type(description="Where and how a resident of a division does a matter")
class ServiceRoute:
    """Built whole, for a page at a time (``ServiceRoute.shaper``): every field is a
    ready value (no resolver call per field), the page's service orgs built once and
    shared by its routes, and the READ guard checks the route's objects once, with the
    route (``authz_parts``), not per field. An org whose node did not answer is the
    exception itself: graphql-core raises it at the field that asks for it, as the
    field's resolver did."""

    village_modes: list[VillageServiceMode] = strawberry.field(
        description="What the village station may do for it"
    )
    max_visits: int = strawberry.field(
        description="Visits the deciding item promises at most (0: 一趟不用跑)"
    )
    online_level: OnlineLevel = strawberry.field(description="How far it can be done online")
    matter: Matter = strawberry.field(description="The matter")
    implementation: MatterImplementation = strawberry.field(
        description="The implementation item that decides"
    )
    decided_at: ServiceOrg = strawberry.field(
        description="The org whose item decides it: the lowest level in force"
    )
    receivable_at: list[ServiceOrg] = strawberry.field(
        description="Where the application may be handed in, nearest first"
    )
    path: list[ServiceOrg] = strawberry.field(
        description="The way an application travels: receiving org up to the decider"
    )
    preliminary_review_at: ServiceOrg | None = strawberry.field(
        description="The town centre that reviews first (初审), if any"
    )
    delegation: Delegation | None = strawberry.field(
        description="The county's delegation, when a town decides it by delegation"
    )

    @staticmethod
    def shaper(
        catalogue: Mapping[str, MatterRow | ReadRow], orgs: ChainOrgs
    ) -> Callable[[Route], ServiceRoute]:
        """Routes of one page: ``catalogue`` by basic code, ``orgs`` by division code."""
        shared: dict[str, Any] = {
            code: found if isinstance(found, BaseException) else ServiceOrg.from_row(found)
            for code, found in orgs.items()
        }

        def shape(route: Route) -> ServiceRoute:
            path = [shared[code] for code in route.path]
            failed: Any = next((org for org in path if isinstance(org, BaseException)), None)
            review = route.preliminary_review_at
            return ServiceRoute(
                village_modes=list(route.village_modes),
                max_visits=route.decider.max_visits,
                online_level=route.decider.online_level,
                matter=Matter.from_row(catalogue[route.basic_code]),
                implementation=MatterImplementation.from_row(route.decider),
                decided_at=shared[route.decider.division_code],
                # one org that did not answer fails the list, as its resolver did
                receivable_at=failed or path,
                path=failed or path,
                preliminary_review_at=None if review is None else shared[review],
                delegation=Delegation.from_view(route.delegation) if route.delegation else None,
            )

        return shape

    def authz_parts(self) -> Iterable[object]:
        """The objects its fields answer, checked with the route."""
        return (
            self.matter,
            self.implementation,
            self.decided_at,
            self.receivable_at,
            self.path,
            self.preliminary_review_at,
            self.delegation,
        )
