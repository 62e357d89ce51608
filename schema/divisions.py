"""Divisions (行政区划), service organisations (服务机构), departments and windows."""

from __future__ import annotations

import strawberry

from levels.cases.service import china_date
from levels.common import models
from levels.common.codes import level_of_division
from levels.common.reads import ReadRow
from levels.windows import hours as window_hours
from levels.windows.board import QUEUEING, Board
from levels.windows.enums import KioskFunction
from levels.windows.languages import window_languages
from resolvers.globalid import encode_id
from resolvers.pagination import decode_cursor, page_size, slice_page
from resolvers.partial import load_or_report
from schema.enums import Level, OrgKind, WindowKind
from schema.info import Info
from schema.relay import Connection, Node, connection
from schema.windows import OpeningSpan, QueueState, WindowPosts


@strawberry.type(description="行政区划: a division, identified by its 12-digit code")
class Division(Node):
    code: str = strawberry.field(
        description="The 12-digit 统计用区划代码; its form gives the level"
    )
    name: str = strawberry.field(description="Its name, e.g. 修文村")
    level: Level = strawberry.field(description="City, county, town or village")
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: models.Division | ReadRow) -> Division:
        return cls(
            id=strawberry.ID(encode_id("Division", row.code, row.code)),
            code=row.code,
            name=row.name,
            level=row.level,
            parent_code=row.parent_code,
        )

    @strawberry.field(description="The division directly above (null for the city)")
    async def parent(self, info: Info) -> Division | None:
        if self.parent_code is None:
            return None
        row = await info.context.loaders.division_by_code.load(self.parent_code)
        return Division.from_row(row) if row else None

    @strawberry.field(description="Divisions directly below this one, ordered by code")
    async def children(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Division]:
        settings = info.context.settings
        size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
        below = self.level.below
        start = decode_cursor(after, allowed=[below] if below else [])
        rows = await load_or_report(info, info.context.loaders.children_by_parent, self.code, [])
        page = slice_page(rows, lambda r: r.code, lambda r: r.level, first=size, start=start)
        return connection(page, Division.from_row)

    @strawberry.field(description="The service body of this division")
    async def service_org(self, info: Info) -> ServiceOrg | None:
        row = await info.context.loaders.service_org_by_division.load(self.code)
        return ServiceOrg.from_row(row) if row else None


@strawberry.type(
    description="服务机构: 政务服务中心 (city, county), 便民服务中心 (town), 便民服务站 (village)"
)
class ServiceOrg(Node):
    code: str = strawberry.field(description="Unified social credit code (18 characters)")
    name: str = strawberry.field(description="Its name, e.g. 榆次区政务服务中心")
    level: Level = strawberry.field(description="The level of its division")
    kind: OrgKind = strawberry.field(description="政务服务中心, 便民服务中心 or 便民服务站")
    address: str = strawberry.field(description="Where it is")
    phone: str = strawberry.field(description="Its phone number")
    opening_hours: str = strawberry.field(description="The hall's standard hours, as text")
    division_code: str = strawberry.field(description="The division it serves")

    @classmethod
    def from_row(cls, row: models.ServiceOrg | ReadRow) -> ServiceOrg:
        return cls(
            id=strawberry.ID(encode_id("ServiceOrg", row.division_code, row.code)),
            code=row.code,
            name=row.name,
            level=row.level,
            kind=row.kind,
            address=row.address,
            phone=row.phone,
            opening_hours=row.opening_hours,
            division_code=row.division_code,
        )

    @strawberry.field(description="The division it serves")
    async def division(self, info: Info) -> Division:
        row = await info.context.loaders.division_by_code.load(self.division_code)
        return Division.from_row(row)

    @strawberry.field(description="Its departments")
    async def departments(self, info: Info) -> list[Department]:
        rows = await info.context.loaders.departments_by_org.load((self.level, self.code))
        return [Department.from_row(r) for r in rows]

    @strawberry.field(description="Its windows")
    async def windows(self, info: Info) -> list[Window]:
        rows = await info.context.loaders.windows_by_org.load((self.level, self.code))
        return [Window.from_row(r) for r in rows]


def _level_of_key(key: str) -> Level:
    level = level_of_division(key[:12])
    assert level is not None, key
    return level


@strawberry.type(description="部门: a department of a service organisation")
class Department(Node):
    name: str = strawberry.field(description="Its name, e.g. 市场监督管理局")
    org_code: strawberry.Private[str]
    level: strawberry.Private[Level]

    @classmethod
    def from_row(cls, row: models.Department) -> Department:
        level = _level_of_key(row.id)
        return cls(
            id=strawberry.ID(encode_id("Department", row.id[:12], row.id)),
            name=row.name,
            org_code=row.org_code,
            level=level,
        )

    @strawberry.field(description="The service org it belongs to")
    async def org(self, info: Info) -> ServiceOrg:
        row = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return ServiceOrg.from_row(row)


@strawberry.type(description="窗口: a service counter of an organisation")
class Window(Node):
    number: str = strawberry.field(description="Its number, e.g. `A01`")
    name: str = strawberry.field(description="Its name")
    kind: WindowKind = strawberry.field(description="What it does")
    org_code: strawberry.Private[str]
    level: strawberry.Private[Level]
    department_ids: strawberry.Private[list[str]]
    key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Window) -> Window:
        level = _level_of_key(row.id)
        return cls(
            id=strawberry.ID(encode_id("Window", row.id[:12], row.id)),
            number=row.number,
            name=row.name,
            kind=row.kind,
            org_code=row.org_code,
            level=level,
            department_ids=list(row.department_ids),
            key=row.id,
        )

    @strawberry.field(description="The org it belongs to")
    async def org(self, info: Info) -> ServiceOrg:
        row = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return ServiceOrg.from_row(row)

    @strawberry.field(
        description="The departments it serves (none listed on a comprehensive window: all)"
    )
    async def departments(self, info: Info) -> list[Department]:
        rows = await info.context.loaders.department_by_id.load_many(self.department_ids)
        return [Department.from_row(r) for r in rows if r is not None]

    # -- at work (levels/windows): posts, hours, services and the queue of today ----

    async def _board(self, info: Info) -> Board:
        today = china_date(info.context.clock.now())
        board: Board = await info.context.loaders.board_by_org.load(
            (self.level, self.org_code, today)
        )
        return board

    @strawberry.field(description="AB角: who holds the A and B posts, who is on duty now")
    async def posts(self, info: Info) -> WindowPosts:
        board = await self._board(info)
        return WindowPosts.of(board.setups.get(self.key))

    @strawberry.field(
        description="藏汉双语: the languages the window serves in (zh, bo …) — its desk's own, "
        "then those of the staff named on its A and B posts"
    )
    async def languages(self, info: Info) -> list[str]:
        board = await self._board(info)
        rows = await info.context.loaders.staff_languages_by_org.load((self.level, self.org_code))
        staff = {r.staff_id: list(r.languages) for r in rows}
        return window_languages(board.setups.get(self.key), staff)

    @strawberry.field(description="Opening hours (the hall's standard hours unless its own)")
    async def hours(self, info: Info) -> list[OpeningSpan]:
        board = await self._board(info)
        return [OpeningSpan.of(s) for s in window_hours.effective(board.spans.get(self.key, []))]

    @strawberry.field(description="Open now, by its hours and the working-day calendar")
    async def open(self, info: Info) -> bool:
        board = await self._board(info)
        calendar = await info.context.loaders.calendar_by_level.load(self.level)
        return window_hours.open_now(
            board.spans.get(self.key, []), calendar, info.context.clock.now()
        )

    @strawberry.field(description="Today's queue at this window (numbers only)")
    async def queue(self, info: Info) -> QueueState | None:
        board = await self._board(info)
        window = board.window(self.key)
        if window is None or window.kind not in QUEUEING:
            return None
        calendar = await info.context.loaders.calendar_by_level.load(self.level)
        now = info.context.clock.now()
        is_open = window_hours.open_now(board.spans.get(self.key, []), calendar, now)
        return QueueState.of(board.view(window), is_open, now)

    @strawberry.field(description="Matters it serves by basic code (empty: its departments')")
    async def matter_codes(self, info: Info) -> list[str]:
        setup = (await self._board(info)).setups.get(self.key)
        return list(setup.basic_codes) if setup else []

    @strawberry.field(description="A self-service kiosk's functions")
    async def kiosk_functions(self, info: Info) -> list[KioskFunction]:
        setup = (await self._board(info)).setups.get(self.key)
        return [KioskFunction(f) for f in setup.kiosk_functions] if setup else []
