"""代办 at the node holding the village (DESIGN §2, "A node is a service"): an agent's
submission for a resident (``submitCase`` with a proxy authorization) received in one
transaction of the store keeping the village — the resident's authorization locked and
checked, the case received with it (``levels/cases/intake.py``), and the station's
service record (``levels/village/services.py``: mode, accompaniment, fee), together or
nothing.

One code path: the hub's SQL path over a store (``resolvers/proxy.py``) runs
``receive_in`` in the session it opens, with the policy table's checks on the row as
callbacks; a node runs it in its own transaction (``receive_for_resident``) when the
hub asks ``receiveForResident``. What the hub decided travels as a ``Submission``
(``levels/node/intake.py: encode_submission``; its applicant, phone and authorization
are filled here from the authorization) and a ``ProxyReceipt`` (``encode_receipt``):
the authorization named, the agent's village (an authorization of another village is
not theirs to read: AUTHORIZATION_NOT_FOUND), the matter, the resident named, the modes
the route offers and what the agent said of the service.

The licence library (the 残疾人证 that makes the service free, the licences that fill
materials) is read as ``submitCase`` reads it: the resident's licences the hub read at
the city and sent (``levels/licences/held.py``), else the node's own store when it
keeps the library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases import intake
from levels.cases.enums import ApplicantKind
from levels.cases.intake import Applicant, ItemRead, Submission
from levels.cases.messages import record_applicant_language
from levels.cases.models import Case
from levels.cases.service import Actor, china_date
from levels.common.codes import Field, field_path
from levels.common.enums import VillageServiceMode
from levels.common.errors import DomainError, ErrorCode
from levels.licences.held import HeldLicences, newest_valid
from levels.licences.keys import OrgSigner
from levels.licences.reuse import IssuerStatus, Library
from levels.licences.service import held_licences
from levels.node.intake import Submitted, library_of
from levels.proxy import service as proxy_service
from levels.proxy.errors import ProxyErrorCode
from levels.proxy.models import ProxyAuthorization
from levels.village import services as village_services
from levels.village.errors import VillageErrorCode
from levels.village.models import VillageService
from levels.village.services import Eligibility, ServiceDraft

# the e-licence type of the 残疾人证 in the library
DISABILITY_LICENCE_TYPE = "CJRZ"
_FEE_FIELD = ["input", "villageService", "feeYuan"]
_AUTHORIZATION = ["input", "proxyAuthorizationId"]


@dataclass(frozen=True)
class StationService:
    """What the agent said of the station's service: the mode (None: the
    authorization's), who accompanied, the fee in yuan as given, and the applicant's
    age (None: no ID number was given)."""

    mode: VillageServiceMode | None = None
    accompanied_by: str | None = None
    fee_yuan: Decimal | None = None
    age: int | None = None


@dataclass(frozen=True)
class ProxyReceipt:
    """What an agent's submission is checked against in the transaction: the
    authorization, the agent's village, the matter, the resident the submission names
    (None: none), the village service modes the route offers (in its order) and the
    service asked for; ``free_age`` is the hub's ``GOVHUB_PROXY_FREE_AGE``."""

    authorization_id: str
    village_code: str
    basic_code: str
    resident_id: str | None
    modes: tuple[VillageServiceMode, ...]
    service: StationService
    free_age: int


def fee_fen(value: Decimal | None) -> int:
    """A fee in yuan as whole fen; INVALID_FEE for a fraction of a fen or no number."""
    if value is None:
        return 0
    try:
        fen = value * 100
        if fen != fen.to_integral_value() or not value.is_finite():
            raise DomainError(VillageErrorCode.INVALID_FEE, field=_FEE_FIELD)
        return int(fen)
    except InvalidOperation:
        raise DomainError(VillageErrorCode.INVALID_FEE, field=_FEE_FIELD) from None


def offered(modes: Sequence[VillageServiceMode], mode: VillageServiceMode, field: Field) -> None:
    """MODE_NOT_OFFERED unless the route offers ``mode`` (the offered ones as detail)."""
    if mode not in modes:
        raise DomainError(
            ProxyErrorCode.MODE_NOT_OFFERED,
            field=field_path(field),
            detail=", ".join(m.value for m in modes),
        )


async def record_station_service(
    case: Case,
    granted: ProxyAuthorization,
    receipt: ProxyReceipt,
    *,
    session: AsyncSession,
    library: Library | None,
    actor: Actor,
    now: dt.datetime,
) -> VillageService:
    """In the receipt's transaction: the mode the case is handled in (the
    authorization's unless another offered one is asked), who accompanied, and the
    fee — free, with the reason, for a resident who holds a valid 残疾人证 in the library
    (when there is one to read) or is at or over the free age."""
    asked = receipt.service
    mode = asked.mode if asked.mode is not None else granted.mode
    offered(receipt.modes, mode, ("input", "villageService", "mode"))
    card = None
    kinds, today = [DISABILITY_LICENCE_TYPE], china_date(now)
    if isinstance(library, HeldLicences):
        if library.holder == granted.resident_id:
            card = newest_valid(library, kinds, today).get(DISABILITY_LICENCE_TYPE)
    elif library is not None:
        held = await held_licences(library, [granted.resident_id], kinds, today)
        card = held.get(DISABILITY_LICENCE_TYPE)
    who = Eligibility(
        disability_licence_id=card.id if card is not None else None,
        age=asked.age,
        free_age=receipt.free_age,
    )
    draft = ServiceDraft(
        mode=mode, accompanied_by=asked.accompanied_by, fee_fen=fee_fen(asked.fee_yuan)
    )
    return await village_services.record_service(
        case, draft, who, session=session, actor=actor, now=now
    )


Check = Callable[[ProxyAuthorization], bool]


async def receive_in(
    session: AsyncSession,
    receipt: ProxyReceipt,
    submission: Submission,
    *,
    actor: Actor,
    now: dt.datetime,
    catalogue: AsyncSession | ItemRead | None,
    library: Library | None,
    signer: OrgSigner | None,
    language: str | None,
    issuer_status: IssuerStatus | None = None,
    readable: Check | None = None,
    may_submit: Check | None = None,
) -> Case:
    """In ``session``'s transaction (the store keeping the village): the authorization
    (locked) is the agent's to read (``readable``; without it, one of their village),
    still good for this matter and resident, its mode offered, the agent may submit
    for its resident (``may_submit``), and the case is received with it and the
    station's service recorded."""
    granted = await proxy_service.find(receipt.authorization_id, session=session, lock=True)
    if granted is None or not (
        readable(granted) if readable else granted.village_code == receipt.village_code
    ):
        raise DomainError(ProxyErrorCode.AUTHORIZATION_NOT_FOUND, field=_AUTHORIZATION)
    proxy_service.check_usable(
        granted,
        basic_code=receipt.basic_code,
        resident_id=receipt.resident_id,
        today=china_date(now),
    )
    offered(receipt.modes, granted.mode, ("input", "proxyAuthorizationId"))
    if may_submit is not None and not may_submit(granted):
        raise DomainError(ProxyErrorCode.OUTSIDE_YOUR_VILLAGE)
    resident = Applicant(
        ApplicantKind.PERSON,
        granted.resident_id,
        granted.resident_name,
        granted.resident_id_masked,
    )
    case = await intake.submit_case(
        replace(
            submission,
            applicant=resident,
            proxy_authorization_id=granted.id,
            applicant_phone=granted.phone,
        ),
        session=session,
        actor=actor,
        now=now,
        calendar=await load_calendar(session=session),
        catalogue=catalogue,
        library=library,
        issuer_status=issuer_status,
        signer=signer,
    )
    await record_applicant_language(case, language, session=session)
    await record_station_service(
        case, granted, receipt, session=session, library=library, actor=actor, now=now
    )
    return case


async def receive_for_resident(
    sessions: async_sessionmaker[AsyncSession],
    receipt: ProxyReceipt,
    submission: Submission,
    *,
    language: str | None,
    actor: Actor,
    now: dt.datetime,
    signer: OrgSigner | None,
    keeps_library: bool,
    read: ItemRead | None = None,
    held: HeldLicences | None = None,
) -> Submitted:
    """代办 in this node's transaction (its own store the catalogue unless the item and
    its guide are ``read`` elsewhere; the library the resident's licences ``held`` as
    the hub read them, else its own store when ``keeps_library``); a refusal writes
    nothing."""
    async with sessions() as session:
        try:
            case = await receive_in(
                session,
                receipt,
                submission,
                actor=actor,
                now=now,
                catalogue=read,
                library=library_of(session, keeps_library, held),
                signer=signer,
                language=language,
            )
            await session.commit()
        except DomainError as e:
            await session.rollback()
            return Submitted(None, e)
        except BaseException:
            await session.rollback()
            raise
    return Submitted(case)


def encode_receipt(receipt: ProxyReceipt) -> dict[str, Any]:
    """A receipt as JSON (modes by value, the fee as a decimal string)."""
    asked = receipt.service
    return {
        "authorization_id": receipt.authorization_id,
        "village_code": receipt.village_code,
        "basic_code": receipt.basic_code,
        "resident_id": receipt.resident_id,
        "modes": [m.value for m in receipt.modes],
        "service": {
            "mode": asked.mode.value if asked.mode is not None else None,
            "accompanied_by": asked.accompanied_by,
            "fee_yuan": str(asked.fee_yuan) if asked.fee_yuan is not None else None,
            "age": asked.age,
        },
        "free_age": receipt.free_age,
    }


def decode_receipt(data: Any) -> ProxyReceipt:
    """``encode_receipt``'s JSON back; BAD_USER_INPUT otherwise."""
    try:
        if not isinstance(data, Mapping) or not isinstance(data["service"], Mapping):
            raise TypeError("not a receipt")
        asked = data["service"]
        fee = asked.get("fee_yuan")
        age = asked.get("age")
        resident = data.get("resident_id")
        return ProxyReceipt(
            authorization_id=str(data["authorization_id"]),
            village_code=str(data["village_code"]),
            basic_code=str(data["basic_code"]),
            resident_id=None if resident is None else str(resident),
            modes=tuple(VillageServiceMode(m) for m in data["modes"]),
            service=StationService(
                mode=None if asked.get("mode") is None else VillageServiceMode(asked["mode"]),
                accompanied_by=asked.get("accompanied_by"),
                fee_yuan=None if fee is None else Decimal(str(fee)),
                age=None if age is None else int(age),
            ),
            free_age=int(data["free_age"]),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, field=["receipt"], detail=str(exc)[:200]
        ) from None
