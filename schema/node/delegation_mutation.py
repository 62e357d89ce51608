"""The node's mutations of a county's delegations, for the hub: delegating a matter
down to the county's towns (``delegateMatter``) and withdrawing it
(``revokeDelegation``), by the rules of ``levels/county`` in the node's own
transaction (``levels/node/delegations.py``); the towns hear of it by message from
the node's outbox. Merged into the node's ``Mutation`` in ``schema/node/__init__.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.county import delegation as service
from levels.county.models import Delegation
from levels.county.service import DelegationView
from levels.node import delegations
from levels.node.windows import Outcome
from schema.node.mutation import ActorInput, HubNow, StepRefusal, _refusal
from schema.node.types import NodeInfo


@strawberry.type(description="What became of a delegation asked for or withdrawn")
class DelegationResult:
    columns: JSON | None = strawberry.field(
        description="The delegation as it now stands, every column (none: refused, nothing written)"
    )
    towns: list[str] | None = strawberry.field(
        description="The towns it names (empty: every town of the county)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


def _result(info: NodeInfo, outcome: Outcome[DelegationView]) -> DelegationResult:
    view = outcome.value
    return DelegationResult(
        columns=None if view is None else cast(JSON, encode_row(table(Delegation), view.row)),
        towns=None if view is None else list(view.towns),
        error=_refusal(outcome.error, info.context.locale),
    )


_TOWNS = strawberry.argument(
    description="The county's towns as the hub read them (none: they did not answer; the "
    "towns named are then taken on their codes)"
)


@strawberry.type(name="DelegationMutation", description="A county's delegations")
class DelegationMutations:
    @strawberry.mutation(
        description="委托/下放: delegate county item `implementationCode` of county "
        "`divisionCode` to `towns` (none: every town), by `actor`, with its audit event "
        "and a message to each town. `lacking` are the towns the hub found without "
        "`townDepartment`. Who may is the hub's check. DIVISION_NOT_OWNED for a county "
        "this node does not own"
    )
    async def delegate_matter(
        self,
        info: NodeInfo,
        division_code: Annotated[str, strawberry.argument(description="The county")],
        implementation_code: str,
        legal_instrument: str,
        effective_from: dt.date,
        actor: ActorInput,
        now: HubNow,
        towns: list[str] | None = None,
        town_department: str | None = None,
        towns_of_county: Annotated[list[str] | None, _TOWNS] = None,
        lacking: list[str] | None = None,
    ) -> DelegationResult:
        context = info.context
        draft = service.DelegationDraft(
            implementation_code=implementation_code,
            towns=towns or [],
            legal_instrument=legal_instrument,
            effective_from=effective_from,
            town_department=town_department,
        )
        outcome = await delegations.delegate(
            context.sessions, context.scope, division_code, draft,
            towns_of_county=towns_of_county, lacking_department=lacking or [],
            actor=actor.actor(), now=now,
        )  # fmt: skip
        return _result(info, outcome)

    @strawberry.mutation(
        description="Withdraw delegation `id` (with `reason`), by `actor`, with its audit "
        "event and a message to each town. Who may is the hub's check. "
        "DIVISION_NOT_OWNED for a delegation of a county this node does not own"
    )
    async def revoke_delegation(
        self,
        info: NodeInfo,
        id: Annotated[str, strawberry.argument(description="<county code>-G<four digits>")],
        reason: str,
        actor: ActorInput,
        now: HubNow,
        towns_of_county: Annotated[list[str] | None, _TOWNS] = None,
    ) -> DelegationResult:
        context = info.context
        outcome = await delegations.revoke(
            context.sessions, context.scope, id, reason,
            towns_of_county=towns_of_county, actor=actor.actor(), now=now,
        )  # fmt: skip
        return _result(info, outcome)
