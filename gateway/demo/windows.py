"""The demo's windows at work (AB角, hours, kiosk, a live queue, appointments) at the
榆次区 centre (140702000000) and the 修文镇 centre (140702101000), on the demo's "now"
(Friday 2026-11-20, 10:00):

* 榆次区 A01 综合受理: A post yuci.receptionist (signed in since 8:30), B post
  yuci.receptionist.b (a second receptionist made here); lunch-time service 12:00–14:30
  (错时延时) and Saturday mornings (周末轮班). B01 综合出件: yuci.output / yuci.receptionist.b.
  E01 the 24-hour self-service area, with its kiosk functions.
* The morning's queue at A01: A001 served (8:40–8:52), A002 at the window, A003–A005
  waiting (app, kiosk, counter); B001 waiting at the output window.
* Appointment slots at A01 on Monday 23 November, one booked by resident2.
* 修文镇 A01: xiuwen.receptionist (A, on post) and xiuwen.reviewer (B)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.accounts import AccountDraft, new_account
from auth.enums import AccountKind, Role
from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.demo.plan import CREATED_AT, org_code_for
from gateway.nodes import NodeRegistry
from levels.calendar.workdays import load_calendar
from levels.common.clock import CHINA
from levels.common.codes import parse_division
from levels.common.enums import WindowKind
from levels.common.models import ServiceOrg
from levels.windows import appointments, queue, service
from levels.windows.enums import DayKind, KioskFunction, TicketChannel
from levels.windows.hours import Span

YUCI = "140702000000"
XIUWEN = "140702101000"
DAY = dt.date(2026, 11, 20)  # the demo's Friday
SLOT_DAY = dt.date(2026, 11, 23)  # the Monday after
EXTRA_STAFF = (("yuci.receptionist.b", "yuci受理员B角", YUCI, Role.RECEPTIONIST),)


def _at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA)


async def _accounts(nodes: NodeRegistry, *, secret: bytes) -> dict[str, Account]:
    store = nodes.identity
    async with store.sessions.begin() as session:
        template = await session.scalar(
            select(Account).where(Account.username == "yuci.receptionist")
        )
        assert template is not None, "load the demo accounts first"
        for username, name, division, role in EXTRA_STAFF:
            code = parse_division(division)
            draft = AccountDraft(
                username=username,
                kind=AccountKind.STAFF,
                display_name=name,
                password_hash=template.password_hash,
                org_code=org_code_for(code),
                org_level=code.level,
                department_id=f"{division}D01",
                roles=frozenset({role}),
                division_code=division,
            )
            session.add(new_account(draft, secret=secret, now=CREATED_AT))
    names = [
        "yuci.receptionist", "yuci.receptionist.b", "yuci.output", "yuci.admin",
        "xiuwen.receptionist", "xiuwen.reviewer", "xiuwen.admin",
        "resident1", "resident2", "resident3",
    ]  # fmt: skip
    async with store.sessions() as session:
        rows = await session.scalars(select(Account).where(Account.username.in_(names)))
        return {a.username: a for a in rows}


async def load_demo_windows(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    people = await _accounts(nodes, secret=secret)
    admin = demo_actor(people["yuci.admin"], "COUNTER")
    counts = {"window_setups": 0, "queue_tickets": 0, "appointment_slots": 0}
    async with nodes.owner(YUCI).sessions.begin() as session:
        calendar = await load_calendar(session=session)
        org = await session.scalar(select(ServiceOrg).where(ServiceOrg.division_code == YUCI))
        assert org is not None
        a01, b01, e01 = f"{YUCI}W01", f"{YUCI}W03", f"{YUCI}W09"
        before = _at(7, 50)
        for window, a, b in (
            (a01, "yuci.receptionist", "yuci.receptionist.b"),
            (b01, "yuci.output", "yuci.receptionist.b"),
        ):
            ref_a = service.StaffRef(people[a].id, people[a].display_name)
            ref_b = service.StaffRef(people[b].id, people[b].display_name)
            await service.set_posts(window, ref_a, ref_b, session=session, actor=admin, now=before)
            counts["window_setups"] += 1
        standard = [Span(DayKind.WORKDAY, 510, 720), Span(DayKind.WORKDAY, 870, 1050)]
        await service.set_hours(
            a01,
            [
                *standard,
                Span(DayKind.WORKDAY, 720, 870, extended=True),  # 午间错时延时
                Span(DayKind.WEEKEND, 540, 720, extended=True),  # 周六上午
            ],
            session=session, actor=admin, now=before,
        )  # fmt: skip
        await service.set_hours(
            e01, [Span(k, 0, 1440) for k in DayKind], session=session, actor=admin, now=before
        )
        await service.set_services(
            e01, None, list(KioskFunction), None, session=session, actor=admin, now=before
        )
        counts["window_setups"] += 1
        receptionist = demo_actor(people["yuci.receptionist"], "COUNTER")
        output = demo_actor(people["yuci.output"], "COUNTER")
        await service.open_post(a01, session=session, actor=receptionist, now=_at(8, 30))
        await service.open_post(b01, session=session, actor=output, now=_at(8, 30))

        async def issue(who: str, channel: TicketChannel, at: dt.datetime, **target: object) -> int:
            person = people[who]
            staff = person.kind is AccountKind.STAFF
            request = queue.TicketRequest(
                org=org,
                channel=channel,
                holder_id=None if staff else person.id,
                **target,  # type: ignore[arg-type]
            )
            ticket = await queue.issue_ticket(
                request, session=session, actor=demo_actor(person, channel.value), now=at,
                calendar=calendar,
            )  # fmt: skip
            counts["queue_tickets"] += 1
            return ticket.id

        reception = {"window_kind": WindowKind.COMPREHENSIVE_RECEPTION}
        first = await issue("resident3", TicketChannel.KIOSK, _at(8, 35), **reception)
        await queue.call_next(a01, session=session, actor=receptionist, now=_at(8, 40))
        await queue.finish(first, None, session=session, actor=receptionist, now=_at(8, 52))
        await issue("resident1", TicketChannel.MOBILE, _at(9, 20), basic_code="000700400100")
        await issue(
            "yuci.output", TicketChannel.COUNTER, _at(9, 30),
            window_kind=WindowKind.COMPREHENSIVE_OUTPUT,
        )  # fmt: skip

        await issue("resident2", TicketChannel.KIOSK, _at(9, 41), **reception)
        await issue("yuci.receptionist", TicketChannel.COUNTER, _at(9, 47), **reception)
        await issue("resident3", TicketChannel.MOBILE, _at(9, 52), **reception)
        await queue.call_next(a01, session=session, actor=receptionist, now=_at(9, 55))
        slots = await appointments.open_slots(
            a01,
            SLOT_DAY,
            [appointments.SlotDraft(540 + 30 * i, 570 + 30 * i, 2) for i in range(4)],
            session=session, actor=admin, now=before, calendar=calendar,
        )  # fmt: skip
        counts["appointment_slots"] += len(slots)
        await appointments.book(
            slots[0].id, "000700400100", org=org, session=session,
            actor=demo_actor(people["resident2"], "MOBILE"), now=_at(9, 10),
        )  # fmt: skip
    town_admin = demo_actor(people["xiuwen.admin"], "COUNTER")
    async with nodes.owner(XIUWEN).sessions.begin() as session:
        town_window = f"{XIUWEN}W01"
        holder_a, holder_b = people["xiuwen.receptionist"], people["xiuwen.reviewer"]
        await service.set_posts(
            town_window,
            service.StaffRef(holder_a.id, holder_a.display_name),
            service.StaffRef(holder_b.id, holder_b.display_name),
            session=session, actor=town_admin, now=_at(7, 50),
        )  # fmt: skip
        await service.open_post(
            town_window, session=session, actor=demo_actor(holder_a, "COUNTER"), now=_at(8, 30)
        )
        counts["window_setups"] += 1
    return counts
