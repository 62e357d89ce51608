"""The node's mutation of a licence it issued, for the hub: ``changeLicence`` —
suspend, reinstate, revoke or reissue (换发, signed with the issuing org's key this
node keeps) — by the rules of ``levels/licences`` in the node's own transaction
(``levels/node/licences.py``). Merged into the node's ``Mutation`` in
``schema/node/__init__.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.licences.models import ELicence
from levels.node import licences
from levels.node.steps import decode_fields
from schema.node.mutation import ActorInput, HubNow, StepRefusal, _refusal
from schema.node.types import NodeInfo


@strawberry.type(description="What became of a change of a licence")
class LicenceResult:
    columns: JSON | None = strawberry.field(
        description="The licence as it now stands, every column (none: refused, nothing "
        "written; with an error: its expiry was kept, the change refused)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(name="LicenceMutation", description="The licences a node issued")
class LicenceMutations:
    @strawberry.mutation(
        description="A change of licence `id`, which this node issued: SUSPEND_LICENCE, "
        "REINSTATE_LICENCE, REVOKE_LICENCE (with `reason`) or REISSUE_LICENCE (`reason`, "
        "`fields`, `validUntil`; signed with the issuing org's key kept here), by "
        "`actor`, with its audit event and the library's copy in the outbox. Who may is "
        "the hub's check. DIVISION_NOT_OWNED for a licence this node did not issue"
    )
    async def change_licence(
        self,
        info: NodeInfo,
        id: Annotated[str, strawberry.argument(description="The licence's identifier")],
        action: Annotated[str, strawberry.argument(description="SUSPEND_LICENCE, …")],
        actor: ActorInput,
        now: HubNow,
        reason: str | None = None,
        fields: Annotated[
            JSON | None, strawberry.argument(description="A reissue's licence fields, by key")
        ] = None,
        valid_until: Annotated[
            dt.date | None, strawberry.argument(description="A reissue's last day")
        ] = None,
    ) -> LicenceResult:
        context = info.context
        change = licences.LicenceChange(
            action=action,
            reason=reason,
            fields=decode_fields(fields),
            valid_until=valid_until,
        )
        outcome = await licences.change_licence(
            context.sessions,
            context.scope,
            id,
            change,
            signer=context.licence_signer,
            actor=actor.actor(),
            now=now,
        )
        row = outcome.licence
        return LicenceResult(
            columns=None if row is None else cast(JSON, encode_row(table(ELicence), row)),
            error=_refusal(outcome.error, context.locale),
        )
