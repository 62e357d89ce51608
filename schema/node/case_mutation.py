"""The node's mutations for the changes of a case other than its steps, each taken at
the node that holds the case by the rules of ``levels/`` in the node's own transaction,
due timers first, with its audit event in the node's chain — as ``takeCaseStep``:
referrals (``referCase``, ``completeFile``, ``notifyStation``, ``supplementAtStation``:
``levels/node/referrals.py``, the hand-over through the node's outbox), the result of a
pre-review (``givePreReview``), a promised material handed in and its waiver
(``handInTolerated``, ``overrideTolerance``) and a department's part decision
(``decidePart``: ``levels/node/case_changes.py``).

Who may make the change is the hub's check (the policy table), before it calls; what
the change reads of other nodes (a referral's deciding item and reviewing town) the hub
reads and sends. ``input`` is a step's input as JSON (``StepInput``: the expected
version, the materials, what is missing, the decision and its reasons). Each answers
as ``takeCaseStep``: the case's ``columns`` as it now stands, ``moved``, and the
refusal ``error`` with the same codes as the hub's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.node import case_changes, referrals, steps
from schema.node.mutation import ActorInput, CaseStepResult, case_result, held_here
from schema.node.types import NodeInfo

_Number = Annotated[str, strawberry.argument(description="The case number")]
_Now = Annotated[dt.datetime, strawberry.argument(description="The hub's instant")]
_Input = Annotated[
    JSON | None,
    strawberry.argument(description="The change's input (a StepInput: expectedVersion …)"),
]


@strawberry.type(name="CaseMutation", description="The other changes of a case")
class CaseMutations:
    @strawberry.mutation(
        description="转报: refer a case this node holds up its route — to the town that "
        "reviews first (`reviewTown`) or the org deciding `item` — through this node's "
        "outbox. The hub reads the item and the town and sends them"
    )
    async def refer_case(
        self,
        info: NodeInfo,
        number: _Number,
        actor: ActorInput,
        now: _Now,
        item: Annotated[
            JSON, strawberry.argument(description="The item the case is decided under")
        ],
        review_town: Annotated[
            JSON | None,
            strawberry.argument(description="The town that reviews first: orgCode, divisionCode"),
        ] = None,
        opinion: Annotated[
            str | None, strawberry.argument(description="The opinion that goes up with it")
        ] = None,
        reviewer_name: Annotated[
            str, strawberry.argument(description="The name the opinion is given under")
        ] = "",
        input: _Input = None,
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await referrals.refer_case(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            opinion=opinion,
            reviewer_name=reviewer_name,
            item=referrals.decode_item(item),
            review_town=referrals.decode_town(review_town),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="收集: add what the file of a case waiting here to be referred lacks "
        "(`input.materials`)"
    )
    async def complete_file(
        self, info: NodeInfo, number: _Number, actor: ActorInput, now: _Now, input: _Input = None
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await referrals.complete_file(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="一次性告知 to the station that received a referred case "
        "(`input.missing`: material, note)"
    )
    async def notify_station(
        self, info: NodeInfo, number: _Number, actor: ActorInput, now: _Now, input: _Input = None
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await referrals.notify_station(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="The station supplies what its notice listed (`input.materials`)"
    )
    async def supplement_at_station(
        self, info: NodeInfo, number: _Number, actor: ActorInput, now: _Now, input: _Input = None
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await referrals.supplement_at_station(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="网上预审: the result told to the applicant of an online application "
        "(`result` PASSED or INCOMPLETE, `input.missing`)"
    )
    async def give_pre_review(
        self,
        info: NodeInfo,
        number: _Number,
        actor: ActorInput,
        now: _Now,
        result: Annotated[str, strawberry.argument(description="PASSED or INCOMPLETE")],
        input: _Input = None,
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await case_changes.give_pre_review(
            context.sessions,
            number,
            case_changes.pre_review_result(result),
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="补交容缺材料: a promised material handed in (`input.materials`)"
    )
    async def hand_in_tolerated(
        self, info: NodeInfo, number: _Number, actor: ActorInput, now: _Now, input: _Input = None
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await case_changes.hand_in_tolerated(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="A director lets the case be decided without the outstanding "
        "material, for `input.reasons`"
    )
    async def override_tolerance(
        self, info: NodeInfo, number: _Number, actor: ActorInput, now: _Now, input: _Input = None
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await case_changes.override_tolerance(
            context.sessions,
            number,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="联办: a department's decision on its part of a joint case "
        "(`input.decision`, `input.reasons`)"
    )
    async def decide_part(
        self,
        info: NodeInfo,
        number: _Number,
        actor: ActorInput,
        now: _Now,
        implementation_code: Annotated[
            str, strawberry.argument(description="The part's implementation item")
        ],
        input: _Input = None,
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        outcome = await case_changes.decide_part(
            context.sessions,
            number,
            implementation_code,
            steps.decode_input(input or {}),
            actor=actor.actor(),
            now=now,
        )
        return case_result(outcome, context.locale)
