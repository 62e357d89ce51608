"""Per-request DataLoaders, one per relation (``<Entity>By<Key>Loader``).

Each loader groups its keys by the level node that holds them (the level is readable
from every key), asks each node once, in parallel, and returns rows in key order. A
nested query therefore costs a fixed number of statements per node, whatever the
list sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.models import (
    Case,
)
from levels.city import service as city_service
from levels.common import reads
from levels.common import service as common_service
from levels.common.codes import level_of_division
from levels.common.enums import LEVELS, Level
from levels.common.models import (
    Department,
    Division,
    Window,
)
from levels.common.reads import ReadRow
from levels.county import service as county_service
from levels.county.service import DelegationView
from levels.evaluations.models import Evaluation
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence
from levels.licences.reuse import IssuerStatus
from levels.node.records import CaseRecordKind, OrgRecordKind
from levels.proxy import service as proxy_service
from levels.windows import board as window_board
from resolvers import remote
from resolvers.case_loaders import (
    CardsByCaseLoader,
    EventsByCaseLoader,
    LicencesByCaseLoader,
    MaterialsByCaseLoader,
    NoticesByCaseLoader,
    PartsByCaseLoader,
    ProceduresByCaseLoader,
    ToleranceByCaseLoader,
    records_loader,
)
from resolvers.evaluation_loaders import (
    CalendarByLevelLoader,
    ComplaintByPublicIdLoader,
    EvaluationByPublicIdLoader,
    RectificationByEvaluationLoader,
    RectificationByPublicIdLoader,
)
from resolvers.fanout import NodeUnavailable
from resolvers.language_loaders import StaffLanguagesByOrgLoader
from resolvers.level_loader import LevelLoader, OrgScopedLoader, PerRequest, R
from resolvers.licence_loaders import (
    LicenceAtIssuerLoader,
    LicenceByIdLoader,
    LicenceTypeByCodeLoader,
    UsesByLicenceLoader,
)
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node, NodeRegistry
from resolvers.report_loaders import OverdueReportsByDivisionLoader
from resolvers.sessions import RequestSessions
from resolvers.village_loaders import VillageLoaders


def _division_level(code: str) -> Sequence[Level]:
    level = level_of_division(code[:12])
    return (level,) if level else ()


def _division(code: str) -> str | None:
    return code[:12] if level_of_division(code[:12]) else None


class DivisionKeyedLoader(LevelLoader[str, R]):
    """Keyed by a string that leads with a 12-digit division code: asked of the node
    owning that division at its level."""

    def levels_of(self, key: str) -> Sequence[Level]:
        return _division_level(key)

    def division_of(self, key: str) -> str | None:
        return _division(key)


class DivisionByCodeLoader(DivisionKeyedLoader[ReadRow | Division]):
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.divisions_by_code(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Division]:
        return await remote.divisions_by_code(client, keys)

    def answers(self, level: Level, row: ReadRow | Division) -> str:
        return row.code


class ChildrenByParentLoader(LevelLoader[str, Division]):
    """The divisions directly below a division, from every node holding their level
    under it; a node that does not answer leaves the others' (``failed`` says which)."""

    many = True
    remote = True
    partial = True

    def levels_of(self, key: str) -> Sequence[Level]:
        level = level_of_division(key)
        below = level.below if level else None
        return (below,) if below else ()

    def nodes_of(self, key: str, level: Level) -> list[Node]:
        # the children may be spread over the nodes holding their level under the parent
        return self.sessions.nodes.holding(level, under=key)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Division]:
        return await common_service.divisions_by_parent(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Division]:
        return await remote.children_of(client, keys)

    def answers(self, level: Level, row: Division) -> str | None:
        return row.parent_code


class ServiceOrgByDivisionLoader(DivisionKeyedLoader[ReadRow]):
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.orgs_by_division(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.org_records(client, OrgRecordKind.ORGS_OF_DIVISION, keys)

    def answers(self, level: Level, row: ReadRow) -> str:
        return row.division_code


def org_nodes(registry: NodeRegistry, code: str, level: Level) -> list[Node]:
    """The nodes an org of ``level`` known by its credit code may be kept by: those of
    the code's area (``registry.org_nodes``), else every node holding the level."""
    return registry.org_nodes(code, level) or registry.holding(level)


class ByCreditCodeLoader(OrgScopedLoader[R]):
    """Keyed by (level, an org's credit code): asked of the nodes holding the level in
    the code's area (its characters 3–8, ``registry.org_nodes``: one node unless a
    town of the county has a node of its own), every node holding the level when the
    code names no area the map covers."""

    def nodes_of(self, key: tuple[Level, str], level: Level) -> list[Node]:
        return org_nodes(self.sessions.nodes, key[1], level)


class ServiceOrgByCodeLoader(ByCreditCodeLoader[ReadRow]):
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.orgs_by_code(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.orgs_by_code(client, keys)

    def answers(self, level: Level, row: ReadRow) -> tuple[Level, str]:
        return (level, row.code)


class DepartmentByIdLoader(DivisionKeyedLoader[Department]):
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Department]:
        return await common_service.departments_by_id(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Department]:
        return await remote.org_records(client, OrgRecordKind.DEPARTMENTS, keys)

    def answers(self, level: Level, row: Department) -> str:
        return row.id


class DepartmentsByOrgLoader(ByCreditCodeLoader[Department]):
    many = True
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Department]:
        return await common_service.departments_by_org(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Department]:
        return await remote.org_records(client, OrgRecordKind.DEPARTMENTS_OF_ORG, keys)

    def answers(self, level: Level, row: Department) -> tuple[Level, str]:
        return (level, row.org_code)


class WindowsByOrgLoader(ByCreditCodeLoader[Window]):
    many = True
    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Window]:
        return await common_service.windows_by_org(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Window]:
        return await remote.org_records(client, OrgRecordKind.WINDOWS_OF_ORG, keys)

    def answers(self, level: Level, row: Window) -> tuple[Level, str]:
        return (level, row.org_code)


class WindowByIdLoader(LevelLoader[str, Window]):
    remote = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return _division_level(key)

    def nodes_of(self, key: str, level: Level) -> list[Node]:
        # a window id leads with its org's division: the node owning it at the level
        # (where the window's writes go); every node holding the level when none does
        registry = self.sessions.nodes
        owner = registry.owner_or_none(key[:12], level)
        return [owner] if owner is not None else registry.holding(level)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Window]:
        return await common_service.windows_by_id(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Window]:
        return await remote.org_records(client, OrgRecordKind.WINDOWS, keys)

    def answers(self, level: Level, row: Window) -> str:
        return row.id


class MatterByCodeLoader(LevelLoader[str, ReadRow]):
    remote = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return (Level.CITY,)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await city_service.matters_by_code(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.matters_by_code(client, keys)

    def answers(self, level: Level, row: ReadRow) -> str:
        return row.basic_code


def _implementation_level(code: str) -> Sequence[Level]:
    digit = code[18:19]
    return (Level.from_digit(digit),) if len(code) == 31 and digit in "1234" and digit else ()


def _item_nodes(sessions: RequestSessions, code: str, level: Level) -> list[Node]:
    """The nodes an implementation item (or its materials) may be kept by: those of its
    org's credit code (the code's first 18 characters, ``registry.org_nodes``), every
    node holding the level when the code names no area the map covers."""
    return org_nodes(sessions.nodes, code[:18], level)


class ImplementationByCodeLoader(LevelLoader[str, ReadRow]):
    remote = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return _implementation_level(key)

    def nodes_of(self, key: str, level: Level) -> list[Node]:
        return _item_nodes(self.sessions, key, level)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.implementations_by_code(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.implementations_by_code(client, keys)

    def answers(self, level: Level, row: ReadRow) -> str:
        return row.code


class ImplementationsByBasicCodeLoader(LevelLoader[str, ReadRow]):
    """Every implementation of a catalogue matter, from every node holding a level; a
    node that does not answer leaves the others' (``failed`` says which)."""

    many = True
    remote = True
    partial = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return LEVELS

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.implementations_by_basic_code(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.org_records(client, OrgRecordKind.IMPLEMENTATIONS_OF_MATTER, keys)

    def answers(self, level: Level, row: ReadRow) -> str:
        return row.basic_code


class MaterialsByImplementationLoader(LevelLoader[str, ReadRow]):
    many = True
    remote = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return _implementation_level(key)

    def nodes_of(self, key: str, level: Level) -> list[Node]:
        return _item_nodes(self.sessions, key, level)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[ReadRow]:
        return await reads.materials_by_implementation(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Any]:
        return await remote.org_records(client, OrgRecordKind.MATERIALS_OF_IMPLEMENTATION, keys)

    def answers(self, level: Level, row: ReadRow) -> str:
        return row.implementation_code


class DelegationByIdLoader(LevelLoader[str, DelegationView]):
    remote = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return (Level.COUNTY,) if _division(key) else ()  # an id of no county: none holds it

    def division_of(self, key: str) -> str | None:
        # <county division code>-G<four digits>: the county that delegated it
        return _division(key)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[DelegationView]:
        return await county_service.delegations_by_id(keys, session=session)

    async def fetch_remote(
        self, keys: list[str], *, client: NodeClient
    ) -> Sequence[DelegationView]:
        return await remote.delegations_by_id(client, keys)

    def answers(self, level: Level, row: DelegationView) -> str:
        return row.row.id


class CaseByNumberLoader(OrgScopedLoader[Case]):
    """A case's row in one store (it has one in every store it passed through)."""

    remote = True

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[Case]:
        return await proxy_service.cases_by_number(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[Case]:
        return await remote.cases_by_number(client, keys)

    def answers(self, level: Level, row: Case) -> tuple[Level, str]:
        return (level, row.number)


# 好差评 of a case, from the store that holds it, oldest first
EvaluationsByCaseLoader = records_loader(CaseRecordKind.RATINGS, Evaluation)


class BoardByOrgLoader(LevelLoader[tuple[Level, str, Any], window_board.Board]):
    """The hall board (windows, posts, hours, the day's tickets) of an org on a day,
    keyed by (level, org code, date); at a node the hub reaches through its API, its
    ``hallBoards`` (one call per node and day)."""

    remote = True

    def levels_of(self, key: tuple[Level, str, Any]) -> Sequence[Level]:
        return (key[0],)

    def node_key(self, key: tuple[Level, str, Any]) -> Any:
        return (key[1], key[2])

    def nodes_of(self, key: tuple[Level, str, Any], level: Level) -> list[Node]:
        # the nodes a credit code's area says may keep the org (every node holding the
        # level when it says nothing, or names an area no node holds)
        return org_nodes(self.sessions.nodes, key[1], level)

    async def fetch(
        self, keys: list[Any], *, session: AsyncSession
    ) -> Sequence[window_board.Board]:
        found: list[window_board.Board] = []
        for day in sorted({d for _, d in keys}):
            orgs = [o for o, d in keys if d == day]
            found.extend(await window_board.boards(orgs, day, session=session))
        # a store that keeps none of an org's windows does not answer for it (several
        # nodes may be asked: the one keeping the org answers)
        return [b for b in found if b.windows]

    async def fetch_remote(
        self, keys: list[Any], *, client: NodeClient
    ) -> Sequence[window_board.Board]:
        found: list[window_board.Board] = []
        for day in sorted({d for _, d in keys}):
            orgs = [o for o, d in keys if d == day]
            found.extend(await remote.hall_boards(client, orgs, day))
        return found

    def answers(self, level: Level, row: window_board.Board) -> tuple[Level, str, Any]:
        return (level, row.org_code, row.day)

    async def batch_load_fn(self, keys: list[tuple[Level, str, Any]]) -> list[Any]:
        found = await super().batch_load_fn(keys)
        # an org without windows: an empty board
        return [
            window_board.Board(k[1], k[2]) if v is None else v
            for k, v in zip(keys, found, strict=True)
        ]


class Loaders:
    """A request's loaders, each made on first use: a request reads through two or three
    of them, and making all ~40 (each an aiodataloader with its own checks) cost more
    than a one-row query's own resolver."""

    division_by_code = PerRequest(DivisionByCodeLoader)
    children_by_parent = PerRequest(ChildrenByParentLoader)
    service_org_by_division = PerRequest(ServiceOrgByDivisionLoader)
    service_org_by_code = PerRequest(ServiceOrgByCodeLoader)
    department_by_id = PerRequest(DepartmentByIdLoader)
    departments_by_org = PerRequest(DepartmentsByOrgLoader)
    windows_by_org = PerRequest(WindowsByOrgLoader)
    window_by_id = PerRequest(WindowByIdLoader)
    matter_by_code = PerRequest(MatterByCodeLoader)
    implementation_by_code = PerRequest(ImplementationByCodeLoader)
    implementations_by_basic_code = PerRequest(ImplementationsByBasicCodeLoader)
    materials_by_implementation = PerRequest(MaterialsByImplementationLoader)
    delegation_by_id = PerRequest(DelegationByIdLoader)
    materials_by_case = PerRequest(MaterialsByCaseLoader)
    parts_by_case = PerRequest(PartsByCaseLoader)
    cards_by_case = PerRequest(CardsByCaseLoader)
    procedures_by_case = PerRequest(ProceduresByCaseLoader)
    events_by_case = PerRequest(EventsByCaseLoader)
    notices_by_case = PerRequest(NoticesByCaseLoader)
    tolerance_by_case = PerRequest(ToleranceByCaseLoader)
    calendar_by_level = PerRequest(CalendarByLevelLoader)
    case_by_number = PerRequest(CaseByNumberLoader)
    licence_by_id = PerRequest(LicenceByIdLoader)
    uses_by_licence = PerRequest(UsesByLicenceLoader)
    licence_type_by_code = PerRequest(LicenceTypeByCodeLoader)
    licences_by_case = PerRequest(LicencesByCaseLoader)
    licence_at_issuer = PerRequest(LicenceAtIssuerLoader)
    rectification_by_evaluation = PerRequest(RectificationByEvaluationLoader)
    evaluations_by_case = PerRequest(EvaluationsByCaseLoader)
    evaluation_by_public_id = PerRequest(EvaluationByPublicIdLoader)
    rectification_by_public_id = PerRequest(RectificationByPublicIdLoader)
    complaint_by_public_id = PerRequest(ComplaintByPublicIdLoader)
    board_by_org = PerRequest(BoardByOrgLoader)
    village = PerRequest(VillageLoaders.create)
    staff_languages_by_org = PerRequest(StaffLanguagesByOrgLoader)
    overdue_reports = PerRequest(OverdueReportsByDivisionLoader)

    def __init__(self, sessions: RequestSessions, timeout: float) -> None:
        self.sessions = sessions
        self.timeout = timeout

    @classmethod
    def create(cls, sessions: RequestSessions, timeout: float) -> Loaders:
        return cls(sessions, timeout)


def issuer_status(loaders: Loaders) -> IssuerStatus:
    """Ask a licence's issuer, through ``licence_at_issuer``, for the status it holds
    now (None: its store does not answer, or holds no such licence)."""

    async def status(row: ELicence) -> LicenceStatus | None:
        try:
            master = await loaders.licence_at_issuer.load((row.issuer_level, row.id))
        except NodeUnavailable:
            return None
        return master.status if master is not None else None

    return status
