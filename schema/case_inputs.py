"""The inputs of a case's steps (收件, 受理, 一次性告知, 补正, 决定, 送达, 转报 …) and the
filter of case lists; the case's own types are in ``schema/cases.py``."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.enums import (
    CaseStatus,
    Channel,
    ClockState,
    Decision,
    DeliveryMethod,
    Level,
    MaterialSource,
    RejectionReason,
)
from schema.licences import LicenceFieldInput
from schema.payloads import version_check
from schema.tolerance import ToleranceConsequence
from schema.village import SubmissionExtras


@strawberry.input(description="A material handed in with an application or a 补正")
class MaterialInput:
    name: str = strawberry.field(description="As the service guide names it")
    source: MaterialSource = strawberry.field(
        description="FILE, PAPER or LICENCE (with the identifier as `reference`)"
    )
    reference: str | None = strawberry.field(
        default=None, description="File id or e-licence identifier (not needed for PAPER)"
    )


@strawberry.input(description="收件: an application for one implementation item")
class SubmitCaseInput(SubmissionExtras):
    implementation_code: str = strawberry.field(
        description="The item applied for (its org receives the case)"
    )
    channel: Channel = strawberry.field(
        description="How the case arrives; it follows from the session: an applicant's is "
        "the channel signed in on, staff's COUNTER (or MAIL for a posted application), an "
        "agent's PROXY — any other value is not stored"
    )
    materials: list[MaterialInput] = strawberry.field(
        description="The materials handed in (those the library holds are filled in)"
    )
    applicant_id_number: str | None = strawberry.field(
        default=None,
        description="At a counter: the resident applying (their account is found by it)",
    )
    tolerance_deadline: dt.date | None = strawberry.field(
        default=None, description="容缺承诺: tolerable materials follow by this date"
    )
    tolerance_consequence: ToleranceConsequence | None = strawberry.field(
        default=None, description="容缺承诺: what follows a late one, if the matter states none"
    )
    joint_implementation_codes: list[str] | None = strawberry.field(
        default=None,
        description="联办: more items of other departments of the same org, handled in this "
        "one case; implementationCode's department leads",
    )
    window_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Staff: the window received at; a comprehensive one (一窗受理) pushes "
        "the case to its department",
    )
    on_behalf_of: str | None = strawberry.field(
        default=None,
        description="The credit code of the enterprise applying: one the signed-in person "
        "represents, or at a counter the enterprise itself",
    )
    proxy_authorization_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="代办: a village agent applies for the resident who gave this "
        "authorization (channel PROXY); required of agents",
    )


@strawberry.input(description="A step on one case that needs nothing but its number")
class CaseActionInput:
    number: str = strawberry.field(description="The case number")
    expected_version: int | None = version_check()
    note: str | None = strawberry.field(default=None, description="A note kept with the step")
    licence_fields: list[LicenceFieldInput] | None = strawberry.field(
        default=None,
        description="completeCase of a matter that issues an e-licence: its fields "
        "(the rest are filled from the case); refused for any other step",
    )


@strawberry.input(description="A material a supplement notice asks for, with what is wrong")
class MissingMaterialInput:
    name: str = strawberry.field(description="The material, as the guide names it")
    note: str | None = strawberry.field(default=None, description="What is wrong with it")


@strawberry.input(description="一次性告知: what is missing or wrong, in one notice")
class SupplementNoticeInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MissingMaterialInput] = strawberry.field(
        description="Incorrect materials, with what is wrong; missing ones are added"
    )
    deadline_days: int | None = strawberry.field(
        default=None, description="Working days to supplement (default 5)"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="补正: every material a notice asked for, at once")
class SupplementInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MaterialInput] = strawberry.field(
        description="Every material the notice asked for"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="不予受理: propose refusing to accept a case")
class RejectCaseInput:
    number: str = strawberry.field(description="The case number")
    reason: RejectionReason = strawberry.field(
        description="NOT_REQUIRED, or NOT_OUR_JURISDICTION with the authority to apply to"
    )
    authority: str | None = strawberry.field(
        default=None, description="NOT_OUR_JURISDICTION: the authority to apply to"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="决定: approve or deny a case under review")
class DecideCaseInput:
    number: str = strawberry.field(description="The case number")
    decision: Decision = strawberry.field(description="APPROVED or DENIED")
    reasons: str | None = strawberry.field(default=None, description="Why (required when denying)")
    expected_version: int | None = version_check()
    licence_fields: list[LicenceFieldInput] | None = strawberry.field(
        default=None,
        description="An approval that issues an e-licence: its fields (the rest are "
        "filled from the case); refused for a denial",
    )


@strawberry.input(description="送达: hand the result over, at a window or by post")
class DeliverCaseInput:
    number: str = strawberry.field(description="The case number")
    method: DeliveryMethod = strawberry.field(
        description="PICKUP (with the receipt number) or MAIL (with the tracking number)"
    )
    reference: str | None = strawberry.field(
        default=None, description="PICKUP: the receipt number; MAIL: the tracking number"
    )
    window_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The output window (综合出件); needed for a pickup of a case received at a "
        "comprehensive window",
    )
    expected_version: int | None = version_check()


@strawberry.input(description="联办: one department's decision on its part of a joint case")
class PartDecisionInput:
    number: str = strawberry.field(description="The case number")
    implementation_code: str = strawberry.field(description="The department's item")
    decision: Decision = strawberry.field(description="APPROVED or DENIED")
    reasons: str | None = strawberry.field(default=None, description="Why (required when denying)")
    expected_version: int | None = version_check()


@strawberry.input(description="转报: send a case up its route, with the opinion of this level")
class ReferCaseInput:
    number: str = strawberry.field(description="The case number")
    opinion: str | None = strawberry.field(
        default=None, description="初审意见: required of a town that reviews first"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="Which cases to list (within what the viewer may read)")
class CaseFilter:
    status: CaseStatus | None = strawberry.field(
        default=None, description="Only cases in this status"
    )
    level: Level | None = strawberry.field(
        default=None, description="Only cases held at this level"
    )
    division_code: str | None = strawberry.field(
        default=None,
        description="Cases of this division and everything below it (e.g. a town and its "
        "villages, across their stores), within what the viewer may see",
    )
    org_code: str | None = strawberry.field(default=None, description="Only cases of this org")
    clock_state: ClockState | None = strawberry.field(
        default=None, description="Only cases whose clock is in this state"
    )
    referral_clock_state: ClockState | None = strawberry.field(
        default=None, description="转报时限: cases waiting below their deciding level, by colour"
    )
    pre_review_overdue: bool | None = strawberry.field(
        default=None, description="Online applications not pre-reviewed within 2 working days"
    )
    submitted_from: dt.date | None = strawberry.field(
        default=None, description="Handed in on or after this day"
    )
    submitted_to: dt.date | None = strawberry.field(
        default=None, description="Handed in on or before this day"
    )
    accepted_from: dt.date | None = strawberry.field(
        default=None, description="Accepted on or after this day"
    )
    accepted_to: dt.date | None = strawberry.field(
        default=None, description="Accepted on or before this day"
    )
    applicant: str | None = strawberry.field(
        default=None, description="The applicant's resident ID number or credit code"
    )
    push_overdue: bool | None = strawberry.field(
        default=None, description="Cases pushed from a comprehensive window and not taken up"
    )
    archive_overdue: bool | None = strawberry.field(
        default=None, description="Cases not archived within 1 working day of delivery"
    )
