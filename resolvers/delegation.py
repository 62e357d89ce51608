"""Resolvers of delegateMatter and revokeDelegation: parse, check the policy table,
write in the county's store (the towns hear of it through the outbox) — asked of the
county's node through its API when the hub reaches it so (``resolvers/delegation_api.py``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from auth.policy import Action, Resource, Target, allows, refusal
from levels.common.codes import parse_implementation_code
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.county import delegation as service
from levels.county.errors import DelegationErrorCode
from resolvers import delegation_api
from resolvers.cases import actor_of
from resolvers.fanout import NodeUnavailable
from resolvers.globalid import decode_id
from schema.info import Info
from schema.matters import Delegation, DelegationPayload
from schema.payloads import user_errors

_RAW_ID = re.compile(r"^\d{12}-G\d{4}$")


def _check(info: Info, org_code: str, division_code: str, field: str) -> None:
    target = Target(Resource.CATALOGUE, division_code=division_code, org_code=org_code)
    viewer = info.context.viewer
    if not allows(viewer, Action.DELEGATE_MATTER, target):
        if refusal(viewer, Action.DELEGATE_MATTER, target) == "REACH":
            code = (
                DelegationErrorCode.NOT_HELD_BY_COUNTY
                if field == "implementationCode"
                else DelegationErrorCode.DELEGATION_NOT_FOUND
            )
            raise DomainError(code, field=["input", field])
        raise DomainError(DelegationErrorCode.ROLE_NOT_ALLOWED, field=["input", field])


async def _towns(info: Info, county: str) -> list[str] | None:
    """The county's towns; None when the town store does not answer (a delegation to
    towns it names is written all the same, and waits in the outbox)."""
    loader = info.context.loaders.children_by_parent
    try:
        rows = await loader.load(county)
    except NodeUnavailable:
        return None
    if loader.failed(county):  # some of its towns' nodes did not answer
        return None
    return sorted(r.code for r in rows if r.level is Level.TOWN)


async def _lacking(info: Info, towns: Sequence[str], department: str | None) -> list[str]:
    """The towns whose centre has no department named ``department`` (none checked
    when the town store does not answer: the town refuses the message then)."""
    if not towns or not (department or "").strip():
        return []
    name = (department or "").strip()
    loaders = info.context.loaders
    try:
        orgs = await loaders.service_org_by_division.load_many(list(towns))
        held = await loaders.departments_by_org.load_many(
            [(Level.TOWN, org.code) for org in orgs if org is not None]
        )
    except NodeUnavailable:
        return []
    has = {rows[0].org_code for rows in held if any(d.name == name for d in rows)}
    return [t for t, org in zip(towns, orgs, strict=True) if org is None or org.code not in has]


async def delegate(info: Info, input: Any) -> DelegationPayload:
    ctx = info.context
    try:
        code = parse_implementation_code(
            input.implementation_code, field=("input", "implementationCode")
        )
        if code.level is not Level.COUNTY:
            raise DomainError(
                DelegationErrorCode.NOT_HELD_BY_COUNTY, field=["input", "implementationCode"]
            )
        impl = await ctx.loaders.implementation_by_code.load(code.code)
        county = impl.division_code if impl else ""
        _check(info, code.org_code, county, "implementationCode")
        towns = await _towns(info, county) if county else []
        named = [t.strip() for t in input.towns or []]
        lacking = await _lacking(info, named or towns or [], input.town_department)
        draft = service.DelegationDraft(
            implementation_code=code.code,
            towns=input.towns or [],
            legal_instrument=input.legal_instrument,
            effective_from=input.effective_from,
            town_department=input.town_department,
        )
        node = ctx.nodes.owner_at(county, Level.COUNTY)
        if node.client is not None:  # the county's node writes it, through its API
            view = await delegation_api.delegate(info, node, county, draft, towns, lacking)
            return DelegationPayload(delegation=Delegation.from_view(view))
        # committed on success, rolled back on any error
        async with node.sessions.begin() as session:
            view, _ids = await service.delegate_matter(
                draft,
                towns_of_county=towns,
                session=session,
                actor=actor_of(info),
                now=ctx.clock.now(),
                lacking_department=lacking,
            )
    except DomainError as e:
        return DelegationPayload(errors=user_errors(e, ctx.locale))
    return DelegationPayload(delegation=Delegation.from_view(view))


def _delegation_key(value: str) -> str:
    if _RAW_ID.match(value):
        return value
    gid = decode_id(value)
    if gid.type_name != "Delegation":
        raise DomainError(DelegationErrorCode.DELEGATION_NOT_FOUND, field=["input", "id"])
    return gid.key


async def revoke(info: Info, input: Any) -> DelegationPayload:
    ctx = info.context
    try:
        key = _delegation_key(input.id)
        views = await ctx.loaders.delegation_by_id.load(key)
        if views is None:
            raise DomainError(DelegationErrorCode.DELEGATION_NOT_FOUND, field=["input", "id"])
        row = views.row
        _check(info, row.from_org_code, row.from_division_code, "id")
        towns = await _towns(info, row.from_division_code)
        node = ctx.nodes.owner_at(row.from_division_code, Level.COUNTY)
        if node.client is not None:  # the county's node withdraws it, through its API
            view = await delegation_api.revoke(info, node, key, input.reason, towns)
            return DelegationPayload(delegation=Delegation.from_view(view))
        async with node.sessions.begin() as session:
            view = await service.revoke_delegation(
                key,
                input.reason,
                towns_of_county=towns,
                session=session,
                actor=actor_of(info),
                now=ctx.clock.now(),
            )
    except DomainError as e:
        return DelegationPayload(errors=user_errors(e, ctx.locale))
    return DelegationPayload(delegation=Delegation.from_view(view))
