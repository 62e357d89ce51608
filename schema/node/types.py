"""The entities a node serves, with their Apollo Federation 2 keys. Each is the row of
the node's own store, field for field; ``resolve_reference`` asks the call's loader,
so the representations of one type in one call cost one statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol, Self, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

# the domain's enums as GraphQL enums (registered in place, as the hub's schema does)
import schema.enums  # noqa: F401
from levels.cases.enums import CaseStatus
from levels.cases.models import Case as CaseRow
from levels.city.models import Matter as MatterRow
from levels.common.enums import (
    HandlingKind,
    Level,
    MatterStatus,
    MatterType,
    OnlineLevel,
    OrgKind,
)
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division as DivisionRow
from levels.common.models import MatterImplementation as ImplementationRow
from levels.common.models import ServiceOrg as ServiceOrgRow
from levels.common.reads import ReadRow, table
from levels.common.rowcodec import encode_row
from levels.county.models import Delegation as DelegationTable
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence as LicenceRow
from levels.node.reads import DelegationRow
from levels.node.records import CaseRecordKind, OrgRecordKind
from schema.node.context import NodeContext

if not hasattr(LicenceStatus, "__strawberry_definition__"):  # registered once (schema/licences.py)
    strawberry.enum(LicenceStatus, description="电子证照状态: 有效 / 暂扣 / 吊销(或已换发) / 过期")

NodeInfo = Info[NodeContext, None]


def _d(text: str) -> Any:
    return strawberry.field(description=text)


def _key(key: dict[str, Any], name: str) -> str:
    value = key.get(name)
    if not isinstance(value, str):
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=[name], detail=f"{name} is a string")
    return value


class _FromRow(Protocol):
    @classmethod
    def from_row(cls, row: Any) -> Self: ...


E = TypeVar("E", bound=_FromRow)


T = TypeVar("T")


def _copied(cls: type[T], source: Any, /, **given: Any) -> T:
    """An entity whose fields are the ``source`` row's columns of the same names, and
    ``given``."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    # a field with a resolver (``columns``) is not given to the constructor
    names = [f.name for f in fields if f.init and f.name not in given]
    return cls(**{name: getattr(source, name) for name in names}, **given)


async def _load(cls: type[E], loader: DataLoader[str, Any], key: str) -> E | None:
    """The entity of ``key`` through the call's loader (one statement per batch)."""
    row = await loader.load(key)
    return None if row is None else cls.from_row(row)


_COLUMNS = (
    "Every column of this node's row, by column name (dates ISO 8601, enums by name): "
    "what the hub builds its own types from"
)


@strawberry.federation.type(keys=["code"], description="行政区划: a division this node owns")
class Division:
    code: str = _d("The 12-digit division code (统计用区划代码)")
    name: str = _d("Its name")
    level: Level = _d("Its level, which follows from the code")
    parent_code: str | None = _d("The code of the division above it (none for a city)")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(DivisionRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        code = _key(key, "code")
        info.context.scope.require(code, field="code")
        return await _load(cls, info.context.loaders.division_by_code, code)


@strawberry.federation.type(
    keys=["code"], description="服务机构: the service body of a division of this node"
)
class ServiceOrg:
    code: str = _d("Its unified social credit code (18 characters)")
    division_code: str = _d("The division it serves")
    name: str = _d("Its name")
    level: Level = _d("Its level")
    kind: OrgKind = _d("政务服务中心 / 分中心 / 便民服务中心 / 便民服务站")
    address: str = _d("Where it is")
    phone: str = _d("Its phone number")
    opening_hours: str = _d("When it is open, as it states it")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(ServiceOrgRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        return await _load(cls, info.context.loaders.org_by_code, _key(key, "code"))


@strawberry.federation.type(
    keys=["basicCode"], description="事项: an item of the matter catalogue (the city node's)"
)
class Matter:
    basic_code: str = _d("The 12-character basic code (基本编码)")
    name: str = _d("Its name")
    type: MatterType = _d("行政许可, 行政确认, … 公共服务")
    department: str = _d("The department responsible")
    legal_basis: str = _d("设定依据")
    legal_time_limit_days: int = _d("法定时限, in working days")
    status: MatterStatus = _d("Where it stands in the catalogue")
    version: int = _d("Moves by one with each change")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(MatterRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        if not info.context.scope.holds(Level.CITY):
            return None  # the catalogue is kept by the node holding the city
        return await _load(cls, info.context.loaders.matter_by_code, _key(key, "basicCode"))


@strawberry.federation.type(
    keys=["code"], description="实施清单事项: how an org of this node implements a matter"
)
class MatterImplementation:
    code: str = _d("The implementation code (org credit code + level digit + basic code)")
    basic_code: str = _d("The catalogue matter it implements")
    org_code: str = _d("The implementing org")
    division_code: str = _d("The implementing org's division")
    level: Level = _d("The implementing level")
    handling_kind: HandlingKind = _d("即办件 or 承诺件")
    promised_time_limit_days: int = _d("承诺时限, in working days")
    max_visits: int = _d("最多跑动次数 (0: 一趟不用跑)")
    online_level: OnlineLevel = _d("How far it can be done online")
    status: MatterStatus = _d("Where it stands in the list")
    version: int = _d("Moves by one with each change")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(ImplementationRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        return await _load(cls, info.context.loaders.implementation_by_code, _key(key, "code"))


@strawberry.federation.type(
    keys=["number"], description="办件: this node's row of a case (one per node it passed)"
)
class Case:
    number: str = _d("<receiving division>-<yyyymmdd>-<sequence>")
    implementation_code: str = _d("The implementation item applied for")
    basic_code: str = _d("Its catalogue matter")
    matter_name: str = _d("The matter's name when the case was received")
    level: Level = _d("The level holding it in this node")
    org_code: str = _d("The org holding it in this node")
    division_code: str = _d("That org's division")
    status: CaseStatus = _d("Where it stands (办件状态)")
    channel: str = _d("Where it came from (COUNTER, WEB, …)")
    applicant_id: str = _d("The applicant's account, for the hub's per-object checks")
    applicant_name: str = _d("The applicant's name")
    applicant_id_masked: str = _d("The applicant's ID number, masked")
    submitted_at: dt.datetime = _d("When it was received")
    due_on: dt.date | None = _d("The last working day of its clock, once it runs")
    version: int = _d("Moves by one with every transition (optimistic lock)")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(CaseRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        number = _key(key, "number")
        scope = info.context.scope
        # a case is held on its way up from the division that received it
        if not scope.on_the_way(number[:12], field="number"):
            raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["number"], detail=number[:12])
        return await _load(cls, info.context.loaders.case_by_number, number)


@strawberry.federation.type(
    keys=["id"], description="电子证照: an e-licence this node issued or keeps in its library"
)
class ELicence:
    id: str = _d("type . issuer credit code . serial . version . check character")
    type_code: str = _d("The licence type")
    type_name: str = _d("The licence type's name")
    issuer_org_code: str = _d("The issuing org")
    issuer_name: str = _d("The issuing org's name")
    issuer_level: Level = _d("The issuing level")
    issuer_division_code: str = _d("The issuing org's division")
    holder_id: str = _d("The holder's account, for the hub's per-object checks")
    holder_name: str = _d("The holder's name")
    holder_id_masked: str = _d("The holder's ID number, masked")
    source_case_number: str = _d("The case whose approval issued it")
    valid_from: dt.date = _d("First day of validity")
    valid_until: dt.date | None = _d("Last day of validity (none: 长期)")
    status: LicenceStatus = _d("VALID, SUSPENDED, REVOKED or EXPIRED")
    revision: int = _d("Moves by one with every status change")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(LicenceRow), self.row))

    @classmethod
    def from_row(cls, row: ReadRow) -> Self:
        return _copied(cls, row, row=row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        return await _load(cls, info.context.loaders.licence_by_id, _key(key, "id"))


@strawberry.federation.type(
    keys=["id"], description="委托/下放: a county's delegation of a matter to its towns"
)
class Delegation:
    id: str = _d("<county division code>-G<four digits>")
    implementation_code: str = _d("The county implementation item delegated")
    basic_code: str = _d("Its catalogue matter")
    from_org_code: str = _d("The delegating county org")
    from_division_code: str = _d("The delegating county")
    all_towns: bool = _d("To every town of the county")
    towns: list[str] = _d("The towns named, when not to all towns")
    legal_instrument: str = _d("The instrument that delegates it")
    effective_from: dt.date = _d("First day in force")
    revoked_at: dt.datetime | None = _d("When it was revoked (none: not revoked)")
    row: strawberry.Private[ReadRow]

    @strawberry.field(description=_COLUMNS)
    def columns(self) -> JSON:
        return cast(JSON, encode_row(table(DelegationTable), self.row))

    @classmethod
    def from_row(cls, found: DelegationRow) -> Self:
        return _copied(cls, found.row, towns=list(found.towns), row=found.row)

    @classmethod
    async def resolve_reference(cls, info: NodeInfo, **key: Any) -> Self | None:
        delegation_id = _key(key, "id")
        info.context.scope.require(delegation_id[:12], field="id")
        return await _load(cls, info.context.loaders.delegation_by_id, delegation_id)


strawberry.enum(
    CaseRecordKind,
    description="What is kept beside a case's row: its materials, parts, supervision "
    "cards, tolerance commitment, special procedures, timeline events, notices, the "
    "licences its approval issued, and its ratings",
)


strawberry.enum(
    OrgRecordKind,
    description="The orgs of divisions (by division code), departments and windows (by "
    "id), the departments and windows of orgs (by credit code), queue tickets (by "
    "public id), the published implementation items of divisions (by division code), "
    "the implementation items of catalogue matters (by basic code), the materials "
    "of implementation items (by implementation code), ratings, rectifications and "
    "complaints (by public id), the rectification of a rating (by its id here), "
    "licences (by identifier), their uses (by licence) and licence types (by code)",
)


@strawberry.type(description="A row of this node's store, read by a key of a batch")
class Record:
    columns: JSON = _d(_COLUMNS)


def row_columns(model: type, row: object | None) -> JSON | None:
    """Every column of ``row`` of ``model``'s table (none: no row)."""
    return None if row is None else cast(JSON, encode_row(table(model), row))


def records(model: type, rows: Iterable[object]) -> list[Record]:
    """``rows`` of ``model``'s table as records, every column."""
    columns = table(model)
    return [Record(columns=cast(JSON, encode_row(columns, r))) for r in rows]


@strawberry.type(description="A record kept beside a case's row in this node's store")
class CaseRecord:
    case_number: str = _d("The case it belongs to")
    columns: JSON = _d(_COLUMNS)


ENTITIES = [Division, ServiceOrg, Matter, MatterImplementation, Case, ELicence, Delegation]
