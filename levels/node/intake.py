"""A case received at the node of its implementing org (DESIGN §2, "A node is a
service"): ``submitCase`` asked by the hub, written by the rules of
``levels/cases/intake.py`` in the node's own transaction — the case, its materials,
parts, timers, notice and SUBMIT event together, or nothing.

A case received below the deciding org (a village station or a town centre receiving
for the county) is written at the node holding the receiving division, numbered there,
its ``received_by`` sent with the rest; when another node keeps the implementing item,
the hub reads the item and its guide there and sends them (``encode_item_read``).

What the hub decides stays the hub's: who applies (the accounts are its), who may
submit, the matter's name and limits from the catalogue, the joint parts, the window
and the arrival channel. They travel as one JSON object (``encode_submission`` /
``decode_submission``) with the actor and the hub's ``now``.

The licence library is read where the node keeps it (the city's); a node without it
is sent the applicant's licences as the hub read them at the city
(``levels/licences/held.py``) and fills materials from them by the same rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases import intake
from levels.cases.enums import ApplicantKind, MaterialSource, ToleranceConsequence
from levels.cases.intake import Applicant, ItemRead, PartDraft, Receiver, Submission
from levels.cases.messages import record_applicant_language
from levels.cases.models import Case
from levels.cases.service import Actor, MaterialDraft
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial, MatterImplementation
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row
from levels.licences.held import HeldLicences
from levels.licences.keys import OrgSigner
from levels.licences.reuse import Library

_FIELDS = {f.name for f in dataclasses.fields(Submission)}


@dataclass(frozen=True)
class Submitted:
    """The case as received (None: refused, nothing written) and the refusal."""

    case: Case | None
    error: DomainError | None = None


def encode_submission(submission: Submission) -> dict[str, Any]:
    """A submission as JSON (enums by value, dates in ISO 8601)."""
    data: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(submission, name)
        if name == "applicant":
            value = {**dataclasses.asdict(value), "kind": value.kind.value}
        elif name == "materials":
            value = [
                {"name": m.name, "source": m.source.value, "reference": m.reference} for m in value
            ]
        elif name == "received_by" and value is not None:
            value = {**dataclasses.asdict(value), "level": value.level.value}
        elif name == "joint":
            value = [dataclasses.asdict(p) for p in value]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, ToleranceConsequence):
            value = value.value
        data[name] = value
    return data


def decode_submission(data: Any) -> Submission:
    """``encode_submission``'s JSON back into a ``Submission``; BAD_USER_INPUT
    otherwise."""
    if not isinstance(data, Mapping) or not set(data) <= _FIELDS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["submission"], detail="not a submission")
    values: dict[str, Any] = dict(data)
    try:
        who = data["applicant"]
        values["applicant"] = Applicant(
            ApplicantKind(who["kind"]), str(who["id"]), str(who["name"]), str(who["id_masked"])
        )
        values["materials"] = [
            MaterialDraft(str(m["name"]), MaterialSource(m["source"]), m.get("reference"))
            for m in data.get("materials") or []
        ]
        values["joint"] = [
            PartDraft(
                str(p["implementation_code"]), str(p["matter_name"]), int(p["legal_limit_days"])
            )
            for p in data.get("joint") or []
        ]
        if data.get("received_by") is not None:
            below = data["received_by"]
            values["received_by"] = Receiver(
                Level(below["level"]), str(below["org_code"]), str(below["division_code"])
            )
        if data.get("tolerance_deadline") is not None:
            values["tolerance_deadline"] = dt.date.fromisoformat(data["tolerance_deadline"])
        if data.get("tolerance_consequence") is not None:
            values["tolerance_consequence"] = ToleranceConsequence(data["tolerance_consequence"])
        submission = Submission(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, field=["submission"], detail=str(exc)[:200]
        ) from None
    return submission


async def submit_case(
    sessions: async_sessionmaker[AsyncSession],
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
    """收件 in this node's transaction (its own store is the catalogue, unless the item
    and its guide are ``read`` elsewhere; the library the applicant's licences ``held``
    as the hub read them, else its own store when ``keeps_library``); a refusal writes
    nothing."""
    async with sessions() as session:
        try:
            case = await intake.submit_case(
                submission,
                session=session,
                actor=actor,
                now=now,
                calendar=await load_calendar(session=session),
                catalogue=read,
                library=library_of(session, keeps_library, held),
                signer=signer,
            )
            await record_applicant_language(case, language, session=session)
            await session.commit()
        except DomainError as e:
            await session.rollback()
            return Submitted(None, e)
        except BaseException:
            await session.rollback()
            raise
    return Submitted(case)


def library_of(
    session: AsyncSession, keeps_library: bool, held: HeldLicences | None
) -> Library | None:
    """What a node reads the library from: the licences the hub sent, else its own
    store when it keeps the library, else none."""
    if held is not None:
        return held
    return session if keeps_library else None


def encode_item_read(item: Any, guide: Sequence[Any]) -> dict[str, Any]:
    """The implementing item and its guide (rows or mapped instances), as JSON."""
    return {
        "item": encode_row(table(MatterImplementation), item),
        "guide": [encode_row(table(ImplementationMaterial), g) for g in guide],
    }


def decode_item_read(data: Any) -> ItemRead | None:
    """``encode_item_read``'s JSON back (None: none sent); BAD_USER_INPUT otherwise."""
    if data is None:
        return None
    if not isinstance(data, Mapping) or set(data) != {"item", "guide"}:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["item"], detail="not an item read")
    try:
        item = decode_row(MatterImplementation, data["item"])
        guide = [decode_row(ImplementationMaterial, g) for g in data["guide"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["item"], detail=str(exc)[:200]) from None
    if not isinstance(item.code, str) or not all(isinstance(g.name, str) for g in guide):
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["item"], detail="not an item read")
    return ItemRead(item, guide)
