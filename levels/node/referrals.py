"""Referrals (转报) at the node that holds the case: ``referCase`` and, around it, the
file completed where the case waits (``completeFile``), the deciding org's one notice to
the station (``notifyStation``) and the station's supplement (``supplementAtStation``).
Each runs the rules of ``levels/cases/referral.py`` and ``referral_rules.py`` in the
node's own transaction, due timers first (``steps.change_case``); a referral's
hand-over goes through the node's outbox, as in a store of the hub's.

A referral's route depends on rows of other nodes — the item the case is decided under
and, when the town reviews first, the town's org — which the hub reads through its
loaders and sends (``encode_item``, ``encode_town``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases import referral, referral_rules
from levels.cases.service import Actor, StepInput
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import MatterImplementation
from levels.node.steps import StepOutcome, change_by_rule, given_change

# what a referral reads of the item it is decided under (``referral.next_hop``)
_ITEM_FIELDS = {
    "code": "code",
    "basicCode": "basic_code",
    "orgCode": "org_code",
    "divisionCode": "division_code",
    "level": "level",
    "preliminaryReview": "preliminary_review",
    "receiveLevels": "receive_levels",
}


def encode_item(impl: MatterImplementation) -> dict[str, Any]:
    """The deciding item as a referral reads it, as JSON."""
    data = {name: getattr(impl, attr) for name, attr in _ITEM_FIELDS.items()}
    data["level"] = impl.level.value
    data["receiveLevels"] = list(impl.receive_levels or [])
    return data


def _bad(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.BAD_USER_INPUT, field=[field], detail=detail[:200])


def decode_item(data: Any) -> MatterImplementation:
    """``encode_item``'s JSON back into a transient item; BAD_USER_INPUT otherwise."""
    if not isinstance(data, Mapping) or set(data) != set(_ITEM_FIELDS):
        raise _bad("item", "not a deciding item")
    try:
        for name in ("code", "basicCode", "orgCode", "divisionCode"):
            if not isinstance(data[name], str):
                raise TypeError(f"{name} is not a string")
        levels = [Level(v).value for v in data["receiveLevels"]]
        return MatterImplementation(
            code=data["code"],
            basic_code=data["basicCode"],
            org_code=data["orgCode"],
            division_code=data["divisionCode"],
            level=Level(data["level"]),
            preliminary_review=bool(data["preliminaryReview"]),
            receive_levels=levels,
        )
    except (TypeError, ValueError) as exc:
        raise _bad("item", str(exc)) from None


def encode_town(review_town: tuple[str | None, str] | None) -> dict[str, Any] | None:
    """The town that reviews first: its org's code (None: its node did not answer, the
    town names it on arrival) and its division."""
    if review_town is None:
        return None
    return {"orgCode": review_town[0], "divisionCode": review_town[1]}


def decode_town(data: Any) -> tuple[str | None, str] | None:
    """``encode_town``'s JSON back; BAD_USER_INPUT otherwise."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _bad("reviewTown", "not a town")
    org, division = data.get("orgCode"), data.get("divisionCode")
    if not isinstance(division, str) or not (org is None or isinstance(org, str)):
        raise _bad("reviewTown", "not a town")
    return org, division


async def refer_case(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    given: StepInput,
    *,
    opinion: str | None,
    reviewer_name: str,
    item: MatterImplementation,
    review_town: tuple[str | None, str] | None,
    actor: Actor,
    now: dt.datetime,
) -> StepOutcome:
    """转报 of a case this node holds, up the route ``item`` and ``review_town`` give."""
    return await change_by_rule(
        sessions,
        number,
        referral.refer_case,
        given=given,
        actor=actor,
        now=now,
        opinion=opinion,
        reviewer_name=reviewer_name,
        impl=item,
        review_town=review_town,
    )


# 收集: what the file lacks (``given.materials``), added where the case waits
complete_file = given_change(referral_rules.complete_file, "materials")
# 一次性告知 to the station (``given.missing``: material, note)
notify_station = given_change(referral_rules.notify_station, "missing")
# the station supplies what the notice listed (``given.materials``)
supplement_at_station = given_change(referral_rules.supplement_at_station, "materials")
