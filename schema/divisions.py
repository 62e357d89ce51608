"""Divisions (行政区划), service organisations (服务机构), departments and windows —
with the types of a window's own fields (A/B posts, opening hours, queue state): they
and ``Window`` refer to each other, so they share this module."""

from __future__ import annotations

import datetime as dt

import strawberry

from levels.cases.service import china_date
from levels.common import models
from levels.common.codes import level_of_division
from levels.common.reads import ReadRow
from levels.windows import hours as window_hours
from levels.windows.board import QUEUEING, Board, QueueView, acting_side
from levels.windows.enums import DayKind, KioskFunction, PostSide
from levels.windows.languages import window_languages
from levels.windows.models import WindowSetup
from resolvers.globalid import encode_id
from resolvers.pagination import decode_cursor, page_size, slice_page
from resolvers.partial import load_or_report, report_unavailable
from schema.enums import Level, OrgKind, WindowKind
from schema.info import Info
from schema.relay import Connection, Node, connection

strawberry.enum(DayKind, description="For opening hours: working day, weekend or holiday")
strawberry.enum(PostSide, description="AB角: A holds the window, B takes over when A is away")
strawberry.enum(KioskFunction, description="What a self-service kiosk can do")


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
        loader = info.context.loaders.children_by_parent
        rows = await load_or_report(info, loader, self.code, [])
        # the nodes holding some of them that did not answer: the others' are listed
        report_unavailable(info, loader.failed(self.code))
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
        calendar = await info.context.loaders.calendar_by_level.load((self.level, self.key[:12]))
        return window_hours.open_now(
            board.spans.get(self.key, []), calendar, info.context.clock.now()
        )

    @strawberry.field(description="Today's queue at this window (numbers only)")
    async def queue(self, info: Info) -> QueueState | None:
        board = await self._board(info)
        window = board.window(self.key)
        if window is None or window.kind not in QUEUEING:
            return None
        calendar = await info.context.loaders.calendar_by_level.load((self.level, self.key[:12]))
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


# -- a window at work: its posts, hours and queue (the types of its fields above) --


@strawberry.type(description="One post of a window and who holds it")
class Post:
    side: PostSide = strawberry.field(description="A or B")
    staff_name: str | None = strawberry.field(description="Shown at the window (窗口公示)")
    on_post: bool = strawberry.field(description="The staff member is signed in on the post")
    on_post_since: dt.datetime | None = strawberry.field(description="Since when")


@strawberry.type(description="AB角: the window's two posts and who is on duty now")
class WindowPosts:
    a: Post = strawberry.field(description="The A post")
    b: Post = strawberry.field(description="The B post")
    on_duty: PostSide | None = strawberry.field(
        description="A while A is signed in; B when A is away; null: unstaffed"
    )
    staffed: bool = strawberry.field(description="Someone is on duty")

    @classmethod
    def of(cls, setup: WindowSetup | None) -> WindowPosts:
        side = acting_side(setup)
        a_since = setup.a_on_post_since if setup and setup.a_staff_id else None
        b_since = setup.b_on_post_since if setup and setup.b_staff_id else None
        return cls(
            a=Post(
                side=PostSide.A,
                staff_name=setup.a_staff_name if setup else None,
                on_post=a_since is not None,
                on_post_since=a_since,
            ),
            b=Post(
                side=PostSide.B,
                staff_name=setup.b_staff_name if setup else None,
                on_post=b_since is not None,
                on_post_since=b_since,
            ),
            on_duty=side,
            staffed=side is not None,
        )


@strawberry.type(description="An opening span on a kind of day (China time)")
class OpeningSpan:
    day_kind: DayKind = strawberry.field(description="The kind of day it applies to")
    opens: str = strawberry.field(description='"08:30"')
    closes: str = strawberry.field(description='"17:30"; "24:00" is midnight')
    extended: bool = strawberry.field(description="延时/错时 service (lunch, evening, weekend)")

    @classmethod
    def of(cls, span: window_hours.Span) -> OpeningSpan:
        return cls(
            day_kind=span.day_kind,
            opens=window_hours.clock_text(span.opens),
            closes=window_hours.clock_text(span.closes),
            extended=span.extended,
        )


@strawberry.type(description="A window's queue as a hall display shows it: numbers only")
class QueueState:
    window_id: strawberry.Private[str]
    open: bool = strawberry.field(description="Open now (its hours, today's kind of day)")
    staffed: bool = strawberry.field(description="Someone is on duty on its A or B post")
    now_serving: str | None = strawberry.field(description="The number at the window")
    waiting: list[str] = strawberry.field(description="Numbers waiting, in calling order")
    waiting_count: int = strawberry.field(description="How many tickets wait")
    estimated_wait_minutes: int | None = strawberry.field(
        description="This window's mean service time today × waiting ÷ staffed windows of "
        "its kind; null until it has finished a ticket today"
    )
    updated_at: dt.datetime = strawberry.field(description="When the queue last changed")

    @classmethod
    def of(cls, view: QueueView, is_open: bool, now: dt.datetime) -> QueueState:
        return cls(
            window_id=view.window.id,
            open=is_open,
            staffed=view.staffed,
            now_serving=view.now_serving.number if view.now_serving else None,
            waiting=[t.number for t in view.waiting],
            waiting_count=len(view.waiting),
            estimated_wait_minutes=view.estimated_wait_minutes,
            updated_at=now,
        )

    @strawberry.field(description="The window")
    async def window(self, info: Info) -> Window:
        row = await info.context.loaders.window_by_id.load(self.window_id)
        assert row is not None
        return Window.from_row(row)
