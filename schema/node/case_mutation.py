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
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from levels.node import case_changes, referrals, steps
from schema.node.mutation import (
    ActorInput,
    CaseNumber,
    CaseStepResult,
    HubNow,
    case_result,
    held_here,
)
from schema.node.types import NodeInfo

_Input = Annotated[
    JSON | None,
    strawberry.argument(description="The change's input (a StepInput: expectedVersion …)"),
]


async def _change(
    info: NodeInfo,
    number: str,
    actor: ActorInput,
    now: dt.datetime,
    input: JSON | None,
    change: Callable[..., Awaitable[Any]],
    *first: Callable[[], object],
    **decoded: Callable[[], object],
) -> CaseStepResult:
    """``change`` of a case held here, answered as ``takeCaseStep``: refused unless the
    case is held here, then called with the node's sessions, the number, what ``first``
    reads, the decoded input, what ``decoded`` reads, the actor and ``now``. The readers
    run after the check and in that order, so a bad argument is refused as it always
    was."""
    context = info.context
    held_here(context, number, now)
    outcome = await change(
        context.sessions,
        number,
        *(read() for read in first),
        steps.decode_input(input or {}),
        **{name: read() for name, read in decoded.items()},
        actor=actor.actor(),
        now=now,
    )
    return case_result(outcome, context.locale)


def _plain(change: Callable[..., Awaitable[Any]], description: str) -> Any:
    """A mutation field for a change that takes the case, its input and who makes it."""

    async def resolve(
        self: Any,
        info: NodeInfo,
        number: CaseNumber,
        actor: ActorInput,
        now: HubNow,
        input: _Input = None,
    ) -> CaseStepResult:
        return await _change(info, number, actor, now, input, change)

    return strawberry.mutation(resolver=resolve, description=description)


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
        number: CaseNumber,
        actor: ActorInput,
        now: HubNow,
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
        return await _change(
            info,
            number,
            actor,
            now,
            input,
            partial(referrals.refer_case, opinion=opinion, reviewer_name=reviewer_name),
            item=lambda: referrals.decode_item(item),
            review_town=lambda: referrals.decode_town(review_town),
        )

    complete_file = _plain(
        referrals.complete_file,
        "收集: add what the file of a case waiting here to be referred lacks (`input.materials`)",
    )
    notify_station = _plain(
        referrals.notify_station,
        "一次性告知 to the station that received a referred case (`input.missing`: material, note)",
    )
    supplement_at_station = _plain(
        referrals.supplement_at_station,
        "The station supplies what its notice listed (`input.materials`)",
    )

    @strawberry.mutation(
        description="网上预审: the result told to the applicant of an online application "
        "(`result` PASSED or INCOMPLETE, `input.missing`)"
    )
    async def give_pre_review(
        self,
        info: NodeInfo,
        number: CaseNumber,
        actor: ActorInput,
        now: HubNow,
        result: Annotated[str, strawberry.argument(description="PASSED or INCOMPLETE")],
        input: _Input = None,
    ) -> CaseStepResult:
        return await _change(
            info,
            number,
            actor,
            now,
            input,
            case_changes.give_pre_review,
            lambda: case_changes.pre_review_result(result),
        )

    hand_in_tolerated = _plain(
        case_changes.hand_in_tolerated,
        "补交容缺材料: a promised material handed in (`input.materials`)",
    )
    override_tolerance = _plain(
        case_changes.override_tolerance,
        "A director lets the case be decided without the outstanding material, for `input.reasons`",
    )

    @strawberry.mutation(
        description="联办: a department's decision on its part of a joint case "
        "(`input.decision`, `input.reasons`)"
    )
    async def decide_part(
        self,
        info: NodeInfo,
        number: CaseNumber,
        actor: ActorInput,
        now: HubNow,
        implementation_code: Annotated[
            str, strawberry.argument(description="The part's implementation item")
        ],
        input: _Input = None,
    ) -> CaseStepResult:
        return await _change(
            info, number, actor, now, input, case_changes.decide_part, lambda: implementation_code
        )
