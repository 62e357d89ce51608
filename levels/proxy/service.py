"""The village proxy service (代办), in the store of the village level.

A resident authorizes the agents (代办员) of a village convenience service station to
handle one matter for them: in writing or in person, recorded by an agent, or in the
mobile app by the resident. The authorization goes to the station, not to one agent —
every village has at least two agents on A/B posts, and either may act on it; the
agent who recorded it is kept (``agent_id``, empty when the resident gave it in the
app). It names the matter (basic code), the service mode, the scope in the resident's
words, the phone number the ledger lists, and lasts until ``expires_on`` (inclusive,
China date; a year at most) unless revoked. Granting and revoking are audited in the
village node's chain.

The village ledger (台账: 编号, 受理日期, 申办事项, 申办人, 联系电话, 办件状态) is read from the
cases the station received: they are numbered with the village's division code and
their row stays in this store, REFERRED with the level it went to, once referred up.

Who may do what is decided before these functions run (``auth/policy.py``); here: is
the input what the rules allow, and is an authorization still good for a submission."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.cases.models import Case
from levels.cases.service import Actor, china_date, start_of_day_after
from levels.common.enums import Level, VillageServiceMode
from levels.common.errors import DomainError
from levels.common.ranges import within
from levels.proxy.errors import ProxyErrorCode
from levels.proxy.models import AuthorizationMethod, ProxyAuthorization

GRANT_ACTION = "AUTHORIZE_PROXY"
REVOKE_ACTION = "REVOKE_PROXY"
SCOPE_LIMIT = 500
# a mainland mobile number, or a landline with its area code (0354-1234567)
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# methods an agent records; MOBILE is the resident's own, in the app
RECORDED_METHODS = frozenset({AuthorizationMethod.WRITTEN, AuthorizationMethod.IN_PERSON})


class AuthorizationStatus(enum.Enum):
    ACTIVE = "ACTIVE"  # may be used for a submission
    EXPIRED = "EXPIRED"  # its last day has passed
    REVOKED = "REVOKED"  # taken back by the resident (or struck out by its agent)


def status_of(row: ProxyAuthorization, today: dt.date) -> AuthorizationStatus:
    if row.revoked_at is not None:
        return AuthorizationStatus.REVOKED
    if row.expires_on < today:
        return AuthorizationStatus.EXPIRED
    return AuthorizationStatus.ACTIVE


@dataclass(frozen=True)
class Resident:
    """Who authorizes: a resident's account, as the ledger shows them."""

    id: str
    name: str
    id_masked: str


@dataclass(frozen=True)
class AuthorizationDraft:
    village_code: str
    resident: Resident
    basic_code: str
    scope: str
    mode: VillageServiceMode
    method: AuthorizationMethod
    expires_on: dt.date
    phone: str
    agent_id: str = ""  # the agent who recorded it; empty when given in the app


def latest_expiry(today: dt.date) -> dt.date:
    """The last day an authorization given today may run to: one year on."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


def _checked(draft: AuthorizationDraft, today: dt.date) -> tuple[str, str]:
    scope = draft.scope.strip()
    if not scope:
        raise DomainError(ProxyErrorCode.SCOPE_REQUIRED, field=["input", "scope"])
    if len(scope) > SCOPE_LIMIT:
        raise DomainError(ProxyErrorCode.TEXT_TOO_LONG, field=["input", "scope"])
    phone = draft.phone.strip().replace(" ", "")
    if not _PHONE.match(phone):
        raise DomainError(ProxyErrorCode.INVALID_PHONE, field=["input", "phone"])
    if draft.expires_on < today:
        raise DomainError(ProxyErrorCode.EXPIRY_IN_THE_PAST, field=["input", "expiresOn"])
    if draft.expires_on > latest_expiry(today):
        raise DomainError(
            ProxyErrorCode.EXPIRY_TOO_FAR,
            field=["input", "expiresOn"],
            detail=latest_expiry(today).isoformat(),
        )
    if draft.agent_id and draft.method not in RECORDED_METHODS:
        raise DomainError(ProxyErrorCode.METHOD_NOT_ALLOWED, field=["input", "method"])
    if not draft.agent_id and draft.method is not AuthorizationMethod.MOBILE:
        raise DomainError(ProxyErrorCode.METHOD_NOT_ALLOWED, field=["input", "method"])
    return scope, phone


async def _audit(
    session: AsyncSession,
    row: ProxyAuthorization,
    actor: Actor,
    action: str,
    before: AuthorizationStatus | None,
    after: AuthorizationStatus,
    now: dt.datetime,
) -> None:
    await append(
        EventDraft(
            actor_id=actor.id,
            actor_kind=actor.kind,
            role=actor.role,
            channel=actor.channel,
            org_code=actor.org_code,
            level=Level.VILLAGE.value,
            action=action,
            before=before.value if before else None,
            after=after.value,
            detail={
                "authorization": row.id,
                "village": row.village_code,
                "resident": row.resident_id,
                "basicCode": row.basic_code,
                "mode": row.mode.value,
                "method": row.method.value,
                "expiresOn": row.expires_on.isoformat(),
            },
            request_id=actor.request_id,
            division_code=row.village_code,
        ),
        session=session,
        now=now,
    )


async def grant(
    draft: AuthorizationDraft,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    authorization_id: str | None = None,
) -> ProxyAuthorization:
    """Record a resident's authorization (checked: scope, phone, expiry, method) and
    its audit event, in the caller's transaction."""
    scope, phone = _checked(draft, china_date(now))
    row = ProxyAuthorization(
        id=authorization_id or uuid.uuid4().hex,
        village_code=draft.village_code,
        resident_id=draft.resident.id,
        resident_name=draft.resident.name,
        resident_id_masked=draft.resident.id_masked,
        phone=phone,
        agent_id=draft.agent_id,
        basic_code=draft.basic_code,
        scope=scope,
        mode=draft.mode,
        method=draft.method,
        granted_at=now,
        expires_on=draft.expires_on,
        revoked_at=None,
    )
    session.add(row)
    await session.flush()
    await _audit(session, row, actor, GRANT_ACTION, None, AuthorizationStatus.ACTIVE, now)
    return row


async def find(
    authorization_id: str, *, session: AsyncSession, lock: bool = False
) -> ProxyAuthorization | None:
    """One authorization by id; ``lock`` holds it (PostgreSQL) until the caller's
    transaction ends, so a revocation and a submission with it never overlap."""
    key = authorization_id.strip()
    if not key or len(key) > 32:
        return None
    return await session.get(ProxyAuthorization, key, with_for_update=lock, populate_existing=lock)


async def revoke(
    row: ProxyAuthorization, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> ProxyAuthorization:
    """Revoke: it can no longer be used. Revoking a revoked one changes nothing (it
    keeps the time it was first revoked)."""
    if row.revoked_at is not None:
        return row
    before = status_of(row, china_date(now))
    row.revoked_at = now
    await session.flush()
    await _audit(session, row, actor, REVOKE_ACTION, before, AuthorizationStatus.REVOKED, now)
    return row


def check_usable(
    row: ProxyAuthorization, *, basic_code: str, resident_id: str | None, today: dt.date
) -> None:
    """Raise unless ``row`` lets an agent apply for ``basic_code`` today (for
    ``resident_id`` when the submission names the applicant)."""
    status = status_of(row, today)
    if status is AuthorizationStatus.REVOKED:
        raise DomainError(
            ProxyErrorCode.AUTHORIZATION_REVOKED, field=["input", "proxyAuthorizationId"]
        )
    if status is AuthorizationStatus.EXPIRED:
        raise DomainError(
            ProxyErrorCode.AUTHORIZATION_EXPIRED,
            field=["input", "proxyAuthorizationId"],
            detail=row.expires_on.isoformat(),
        )
    if row.basic_code != basic_code:
        raise DomainError(
            ProxyErrorCode.AUTHORIZATION_OTHER_MATTER, field=["input", "implementationCode"]
        )
    if resident_id is not None and row.resident_id != resident_id:
        raise DomainError(
            ProxyErrorCode.AUTHORIZATION_OTHER_RESIDENT, field=["input", "applicantIdNumber"]
        )


@dataclass(frozen=True)
class AuthorizationQuery:
    """Which authorizations to list. Exactly what the viewer may read is said by one
    of ``resident_id`` (a resident's own), ``village_code`` (an agent's village) or
    ``village_prefix`` (staff and auditors: their jurisdiction)."""

    today: dt.date
    resident_id: str | None = None
    village_code: str | None = None
    village_prefix: str | None = None
    basic_code: str | None = None
    status: AuthorizationStatus | None = None
    of_resident: str | None = None  # filter by the resident who gave them


def authorization_query(q: AuthorizationQuery) -> Select[ProxyAuthorization]:
    stmt = select(ProxyAuthorization)
    if q.resident_id is not None:
        stmt = stmt.where(ProxyAuthorization.resident_id == q.resident_id)
    if q.village_code is not None:
        stmt = stmt.where(ProxyAuthorization.village_code == q.village_code)
    if q.village_prefix is not None:
        stmt = stmt.where(within(ProxyAuthorization.village_code, q.village_prefix))
    if q.basic_code is not None:
        stmt = stmt.where(ProxyAuthorization.basic_code == q.basic_code)
    if q.of_resident is not None:
        stmt = stmt.where(ProxyAuthorization.resident_id == q.of_resident)
    if q.status is AuthorizationStatus.REVOKED:
        stmt = stmt.where(ProxyAuthorization.revoked_at.is_not(None))
    elif q.status is AuthorizationStatus.EXPIRED:
        stmt = stmt.where(
            ProxyAuthorization.revoked_at.is_(None), ProxyAuthorization.expires_on < q.today
        )
    elif q.status is AuthorizationStatus.ACTIVE:
        stmt = stmt.where(
            ProxyAuthorization.revoked_at.is_(None), ProxyAuthorization.expires_on >= q.today
        )
    return stmt


async def list_authorizations(
    q: AuthorizationQuery,
    *,
    session: AsyncSession,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> Sequence[ProxyAuthorization]:
    """A page of authorizations in the order they were given (ties by id)."""
    stmt = authorization_query(q)
    if after is not None:
        at, key = after
        stmt = stmt.where(
            (ProxyAuthorization.granted_at > at)
            | ((ProxyAuthorization.granted_at == at) & (ProxyAuthorization.id > key))
        )
    stmt = stmt.order_by(ProxyAuthorization.granted_at, ProxyAuthorization.id)
    return (await session.scalars(stmt.limit(limit))).all()


# the village ledger (台账)


async def ledger_page(
    village_code: str,
    *,
    session: AsyncSession,
    received_from: dt.date | None,
    received_to: dt.date | None,
    after: str | None,
    limit: int,
) -> Sequence[Case]:
    """The cases the village station received (its division code numbers them), by
    number, received between the two days (China dates, inclusive)."""
    stmt = select(Case).where(Case.division_code == village_code)
    if received_from is not None:
        day_before = received_from - dt.timedelta(days=1)
        stmt = stmt.where(Case.submitted_at >= start_of_day_after(day_before))
    if received_to is not None:
        stmt = stmt.where(Case.submitted_at < start_of_day_after(received_to))
    if after is not None:
        stmt = stmt.where(Case.number > after)
    return (await session.scalars(stmt.order_by(Case.number).limit(limit))).all()


async def cases_by_number(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[Case]:
    """The rows this store holds of these cases (a referred case has one in every
    store it passed through)."""
    return (await session.scalars(select(Case).where(Case.number.in_(numbers)))).all()
