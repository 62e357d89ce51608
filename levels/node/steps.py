"""A case step taken at the node that holds the case (DESIGN §2, "A node is a
service"): the node runs the rules (``levels/cases``) in its own transaction — what the
timer worker would have done to the case by ``now`` first (``levels/cases/due.py``),
then the step and its audit event, together or not at all.

Who may take the step is the hub's check (it read the row through the node's API and
holds the policy table); the node is told who acts (``Actor``) and records it.

The hub and the node agree on the step's input as JSON (``encode_input`` /
``decode_input``), on who acts (``encode_actor`` / ``decode_actor``), and on the codes of
a refusal (``code_of``: a code of any domain of ``levels/``, by its value)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from levels.calendar.reads import read_calendar
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases import due, locks, referral_rules, withdrawal
from levels.cases import steps as case_steps
from levels.cases.enums import Decision, MaterialSource, RejectionReason
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step
from levels.cases.models import Case
from levels.cases.service import Actor, MaterialDraft, StepInput
from levels.city.errors import CatalogueErrorCode
from levels.common.enums import DeliveryMethod, SpecialProcedureKind
from levels.common.errors import Code, DomainError, ErrorCode
from levels.common.models import MatterImplementation
from levels.county.errors import DelegationErrorCode
from levels.evaluations.errors import EvaluationErrorCode
from levels.idempotency.errors import IdempotencyErrorCode
from levels.licences.errors import LicenceErrorCode
from levels.licences.service import Issuing
from levels.outbox.errors import MessageErrorCode
from levels.proxy.errors import ProxyErrorCode
from levels.supervision.errors import SupervisionErrorCode
from levels.village.errors import VillageErrorCode
from levels.windows.errors import WindowErrorCode

# the steps a person takes (the timers' steps are the timer worker's, at the node)
PERSON_STEPS = frozenset(
    {
        Step.COMPLETE,
        Step.NOTIFY_SUPPLEMENT,
        Step.ACCEPT,
        Step.PROPOSE_REJECTION,
        Step.REJECT,
        Step.DECLINE_REJECTION,
        Step.CORRECT_ON_SPOT,
        Step.SUPPLEMENT,
        Step.START_REVIEW,
        Step.START_SPECIAL,
        Step.FINISH_SPECIAL,
        Step.DECIDE,
        Step.DELIVER,
        Step.ARCHIVE,
        Step.WITHDRAW,
    }
)


async def run_step(
    number: str,
    step: Step,
    given: StepInput,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    issuing: Issuing | None,
) -> tuple[Case, WorkCalendar]:
    """The step itself, in ``session``'s transaction (an approval issues its licences
    with ``issuing``), and the calendar it counted with."""
    if step is Step.DECIDE:
        # the station has not yet supplied what the deciding org told it of
        await referral_rules.hold_decision(number, session=session)
    calendar = await read_calendar(session=session)
    if step is Step.WITHDRAW:
        # 撤回 of a case on its way up follows it (levels/cases/withdrawal.py)
        case = await withdrawal.withdraw(
            number, given, session=session, actor=actor, now=now, calendar=calendar,
            issuing=issuing,
        )  # fmt: skip
    else:
        case = await case_steps.take_step(
            number, step, given, session=session, actor=actor, now=now, calendar=calendar,
            issuing=issuing,
        )  # fmt: skip
    return case, calendar


@dataclass(frozen=True)
class StepOutcome:
    """What became of a step: the case as it stands (None when the step was refused
    and nothing changed), whether a due timer moved the case first (then committed
    even if the step was refused), and the refusal."""

    case: Case | None
    moved: bool = False
    error: DomainError | None = None


async def _calendar(session: AsyncSession) -> WorkCalendar:
    return await load_calendar(session=session)


async def take_case_step(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    step: Step,
    given: StepInput,
    *,
    actor: Actor,
    now: dt.datetime,
    issuing: Issuing | None,
) -> StepOutcome:
    """One step of case ``number`` in this node's transaction, due timers first
    (``change_case``)."""
    if step not in PERSON_STEPS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["step"], detail=step.value)

    async def the_step(session: AsyncSession) -> Case:
        case, _calendar_used = await run_step(
            number, step, given, session=session, actor=actor, now=now, issuing=issuing
        )
        return case

    return await change_case(sessions, number, the_step, now=now, step=step)


# a change of a case in a session of the node's store (the rules of ``levels/cases``)
CaseChange = Callable[[AsyncSession], Awaitable[Case]]


# the hub's check of who may change the case, on the row read (None: no such case):
# the row when they may, else a DomainError (the node itself is told who acts, and
# checks nothing more)
CaseCheck = Callable[[Case | None], Case]


async def change_case(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    change: CaseChange,
    *,
    now: dt.datetime,
    step: Step | None = None,
) -> StepOutcome:
    """One change of case ``number`` in a transaction of this node's store
    (``run_change``), its row the transaction's first statement."""
    async with sessions() as session:
        row = await read_locked(session, number)
        return await run_change(session, number, row, change, now=now, step=step)


async def read_locked(session: AsyncSession, number: str) -> Case | None:
    """The row of case ``number`` as a change's first statement reads it: locked until
    the transaction ends (``SELECT … FOR UPDATE``) and marked held (``locks``), so the
    rules that ask for it locked (the due timers, the step) find it in the session
    instead of reading it again — one statement and one load of the row fewer per
    change. A row that is not there is None.

    The same statement reads the case's item (``MatterImplementation``, when this
    store holds it): every step asks for it (``session.get``), and finds it in the
    session's identity map instead of reading it alone. Only the case's row is locked."""
    found = (await session.execute(_READ_LOCKED, {"number": number})).first()
    if found is None:
        return None
    locks.mark(session, number)
    # the session holds what it loaded weakly: the item is kept for the transaction
    session.info.setdefault(_READ_WITH_CASE, []).append(found[1])
    row: Case = found[0]
    return row


_READ_WITH_CASE = "read_with_case"
# built once: each change binds its case's number
_READ_LOCKED = (
    select(Case, MatterImplementation)
    .outerjoin(MatterImplementation, MatterImplementation.code == Case.implementation_code)
    .where(Case.number == bindparam("number"))
    .with_for_update(of=Case)
)


async def change_by_rule(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    rule: Callable[..., Awaitable[Case]],
    *args: Any,
    given: StepInput,
    actor: Actor,
    now: dt.datetime,
    **kwargs: Any,
) -> StepOutcome:
    """``change_case`` by one rule of ``levels/cases``, called as ``rule(number, *args,
    expected_version=given.expected_version, session=…, actor=actor, now=now,
    **kwargs)``."""

    async def change(session: AsyncSession) -> Case:
        return await rule(
            number,
            *args,
            expected_version=given.expected_version,
            session=session,
            actor=actor,
            now=now,
            **kwargs,
        )

    return await change_case(sessions, number, change, now=now)


class GivenChange(Protocol):
    """A change of a case that takes what the step's input gives (``given_change``)."""

    async def __call__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        number: str,
        given: StepInput,
        *,
        actor: Actor,
        now: dt.datetime,
    ) -> StepOutcome: ...


def given_change(rule: Callable[..., Awaitable[Case]], field: str) -> GivenChange:
    """``rule`` of ``levels/cases`` as a change of a case (``change_by_rule``), given the
    step input's ``field`` after the case number."""

    async def change(
        sessions: async_sessionmaker[AsyncSession],
        number: str,
        given: StepInput,
        *,
        actor: Actor,
        now: dt.datetime,
    ) -> StepOutcome:
        return await change_by_rule(
            sessions, number, rule, getattr(given, field), given=given, actor=actor, now=now
        )

    return change


async def run_change(
    session: AsyncSession,
    number: str,
    row: Case | None,
    change: CaseChange,
    *,
    now: dt.datetime,
    step: Step | None = None,
    check: CaseCheck | None = None,
) -> StepOutcome:
    """One change of case ``number`` in ``session``'s transaction, whose first
    statement read ``row``: ``check`` first (the hub's in-process path: who may act,
    refused before anything is done), then what its due timers would have done by
    ``now``, then ``change`` (a step, a referral, a hand-in …) with its audit event. A
    change a timer made impossible is refused with the deadline's code (for a ``step``,
    checked before it runs), and what the timer did is kept: the outcome then has both.
    A case someone else moved between the read and the write is VERSION_CONFLICT.

    The one runner of a case change: the node's API (``change_case``) and the hub's
    mutations on a store in its process both end here."""
    moved = False
    try:
        if check is not None:
            row = check(row)
        if row is None:
            raise DomainError(CaseErrorCode.CASE_NOT_FOUND, field=_NUMBER)
    except DomainError as e:
        await session.rollback()
        return StepOutcome(None, error=e)
    try:
        moved = await due.apply_due(session, number, now=now, calendar=_calendar)
        if step is not None:
            due.refuse_overtaken(row, step)
        # after a timer moved the case, the change runs in a savepoint: refused, it
        # leaves what the timer did (only then: on SQLite a savepoint opened before the
        # first write would make the reads part of the transaction)
        async with session.begin_nested() if moved else nullcontext():
            case = await change(session)
        await session.commit()
    except StaleDataError:
        await session.rollback()
        conflict = DomainError(CaseErrorCode.VERSION_CONFLICT, field=_NUMBER)
        return StepOutcome(None, error=conflict)
    except DomainError as e:
        if not await due.settle_refused(session, e, moved=moved):
            return StepOutcome(None, error=e)
        now_row = await session.get(Case, number, populate_existing=True)
        return StepOutcome(now_row, moved, e)
    except BaseException:
        await session.rollback()
        raise
    return StepOutcome(case, moved)


_NUMBER = ["input", "number"]


# --- what crosses between the hub and the node ---------------------------------------

_ENUMS: dict[str, type[enum.Enum]] = {
    "rejection_reason": RejectionReason,
    "procedure": SpecialProcedureKind,
    "decision": Decision,
    "delivery_method": DeliveryMethod,
}
_INPUT_FIELDS = {f.name for f in dataclasses.fields(StepInput)}
_ACTOR_FIELDS = {f.name for f in dataclasses.fields(Actor)}


def encode_input(given: StepInput) -> dict[str, Any]:
    """A step's input as JSON (enums by value, materials as objects)."""
    data: dict[str, Any] = {}
    for name in _INPUT_FIELDS:
        value = getattr(given, name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif name == "missing":
            value = [[material, note] for material, note in value]
        elif name == "materials":
            value = [
                {"name": m.name, "source": m.source.value, "reference": m.reference} for m in value
            ]
        data[name] = value
    return data


def _bad(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.BAD_USER_INPUT, field=[field], detail=detail[:200])


def decode_input(data: Any) -> StepInput:
    """``encode_input``'s JSON back into a ``StepInput``; BAD_USER_INPUT otherwise."""
    if not isinstance(data, Mapping) or not set(data) <= _INPUT_FIELDS:
        raise _bad("input", "not a step input")
    values: dict[str, Any] = dict(data)
    try:
        for name, kind in _ENUMS.items():
            if values.get(name) is not None:
                values[name] = kind(values[name])
        values["missing"] = [
            (str(m), None if n is None else str(n)) for m, n in data.get("missing") or []
        ]
        values["materials"] = [
            MaterialDraft(str(m["name"]), MaterialSource(m["source"]), m.get("reference"))
            for m in data.get("materials") or []
        ]
        if not isinstance(values.get("detail") or {}, Mapping):
            raise TypeError("detail is not an object")
        values["detail"] = dict(values.get("detail") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad("input", str(exc)) from None
    return StepInput(**values)


def encode_actor(actor: Actor) -> dict[str, Any]:
    return dataclasses.asdict(actor)


def decode_actor(data: Any) -> Actor:
    if (
        not isinstance(data, Mapping)
        or not set(data) <= _ACTOR_FIELDS
        or not isinstance(data.get("id"), str)
        or not isinstance(data.get("kind"), str)
        or any(v is not None and not isinstance(v, str) for v in data.values())
    ):
        raise _bad("actor", "not an actor")
    return Actor(**data)


def decode_fields(data: Any) -> dict[str, str]:
    """The licence fields the director gave, by key."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
        raise _bad("licenceFields", "not an object of strings")
    return {str(k): v for k, v in data.items()}


# every domain's codes, as a refusal that crossed the API is read back
_CODES: tuple[type[enum.Enum], ...] = (
    ErrorCode,
    CaseErrorCode,
    LicenceErrorCode,
    WindowErrorCode,
    VillageErrorCode,
    ProxyErrorCode,
    DelegationErrorCode,
    CatalogueErrorCode,
    EvaluationErrorCode,
    SupervisionErrorCode,
    MessageErrorCode,
    IdempotencyErrorCode,
)


@dataclass(frozen=True)
class AnsweredCode:
    """A code this build does not know (a node of a newer version): its value, and
    the message the node gave in both languages' place."""

    value: str
    message: str

    def messages(self) -> tuple[str, str]:
        return self.message, self.message


def code_of(value: str, message: str = "") -> Code:
    """The code of that value in whichever domain has it."""
    for codes in _CODES:
        try:
            found: Code = codes(value)  # type: ignore[assignment]
        except ValueError:
            continue
        return found
    return AnsweredCode(value, message or value)
