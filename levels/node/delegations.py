"""A county's delegation of a matter to its towns (委托/下放), written at the node that
owns the county (DESIGN §2, "A node is a service"): delegating it and withdrawing it,
by the rules of ``levels/county/delegation.py`` in the node's own transaction, with
its audit event and one message per town in its outbox (the towns' side arrives by
message, as before).

What the rules need of other nodes — the county's towns and which of them lack the
department named — the hub reads first through the nodes' API and sends; who may is
the hub's check. The node checks that it owns the county (DIVISION_NOT_OWNED, raised:
the hub's map is stale) and records who acts; a rule's refusal comes back in the
outcome, typed, with nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases.service import Actor
from levels.county import delegation as service
from levels.county.service import DelegationView
from levels.node.scope import NodeScope
from levels.node.windows import Outcome, checked, in_transaction


async def delegate(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    division_code: str,
    draft: service.DelegationDraft,
    *,
    towns_of_county: Sequence[str] | None,
    lacking_department: Sequence[str],
    actor: Actor,
    now: dt.datetime,
) -> Outcome[DelegationView]:
    """Delegate the county item ``draft.implementation_code`` of ``division_code`` (a
    county this node must own) to the towns named, or to every town of the county."""
    scope.require(division_code, field="divisionCode")
    checked(now)

    async def work(session: AsyncSession) -> DelegationView:
        view, _ids = await service.delegate_matter(
            draft,
            towns_of_county=towns_of_county,
            session=session,
            actor=actor,
            now=now,
            lacking_department=lacking_department,
        )
        return view

    return await in_transaction(sessions, work)


async def revoke(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    delegation_id: str,
    reason: str,
    *,
    towns_of_county: Sequence[str] | None,
    actor: Actor,
    now: dt.datetime,
) -> Outcome[DelegationView]:
    """Withdraw delegation ``delegation_id`` (its id leads with the county, which this
    node must own); the towns hear of it by message."""
    scope.require(delegation_id[:12], field="id")
    checked(now)

    async def work(session: AsyncSession) -> DelegationView:
        return await service.revoke_delegation(
            delegation_id,
            reason,
            towns_of_county=towns_of_county,
            session=session,
            actor=actor,
            now=now,
        )

    return await in_transaction(sessions, work)
