"""The root Mutation. Field names are a contract (DESIGN §6): add, don't rename.

Every mutation takes one ``input`` and returns a payload with ``errors``; only auth
failures are top-level errors."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from levels.cases.machine import Step
from levels.cases.service import StepInput
from resolvers import (
    appointment_writes,
    cases,
    delegation,
    identity,
    licences,
    proxy,
    referrals,
    submission,
)
from resolvers import evaluations as evaluation_resolvers
from resolvers import outbox as outbox_resolvers
from resolvers import publication as publication_resolvers
from resolvers import windows as window_resolvers
from schema.case_inputs import (
    CaseActionInput,
    DecideCaseInput,
    DeliverCaseInput,
    PartDecisionInput,
    ReferCaseInput,
    RejectCaseInput,
    SubmitCaseInput,
    SupplementInput,
    SupplementNoticeInput,
)
from schema.cases import CasePayload
from schema.counter import CounterMutation
from schema.evaluations import (
    AppealRatingInput,
    ComplaintPayload,
    CompleteRectificationInput,
    DecideAppealInput,
    EvaluationPayload,
    FileComplaintInput,
    HandleComplaintInput,
    RateCaseInput,
    RateComplaintHandlingInput,
    RecordCallbackInput,
    RectificationPayload,
)
from schema.identity import (
    ApproveHandoffInput,
    ApproveHandoffPayload,
    CompleteHandoffInput,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    RefreshInput,
    StartHandoffInput,
    StartHandoffPayload,
)
from schema.info import Info
from schema.languages import LanguageMutation
from schema.licences import (
    LicenceActionInput,
    LicenceCopyInput,
    LicenceCopyPayload,
    LicencePayload,
    ReissueLicenceInput,
)
from schema.matters import DelegateMatterInput, DelegationPayload, RevokeDelegationInput
from schema.outbox import RetryMessageInput, RetryMessagePayload
from schema.prereview import PreReviewMutation
from schema.procedures import ProcedureMutation
from schema.proxy import (
    AuthorizeProxyInput,
    ProxyAuthorizationPayload,
    RecordProxyAuthorizationInput,
    RevokeProxyAuthorizationInput,
)
from schema.publication import CataloguePublicationPayload, PublishCatalogueInput
from schema.referral import ReferralMutation
from schema.report_operations import ReportMutation
from schema.village_mutation import VillageMutation
from schema.windows import (
    AppointmentActionInput,
    AppointmentPayload,
    AppointmentSlotsPayload,
    BookAppointmentInput,
    CallNextTicketInput,
    FinishTicketInput,
    IssueTicketInput,
    OpenAppointmentSlotsInput,
    SetWindowHoursInput,
    SetWindowPostsInput,
    SetWindowServicesInput,
    TicketActionInput,
    TicketPayload,
    TransferTicketInput,
    WindowPayload,
    WindowPostInput,
)


@strawberry.type(
    description=(
        "Every change: sign-in, cases and their steps, windows, licences, ratings, delegation"
    )
)
class Mutation(
    CounterMutation,
    ReferralMutation,
    VillageMutation,
    LanguageMutation,
    ReportMutation,
    ProcedureMutation,
    PreReviewMutation,
):
    @strawberry.mutation(
        description="Sign in with username and password on a channel (WEB, MOBILE, KIOSK, "
        "COUNTER): a short-lived access token and a refresh token"
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        return await identity.login(info, input)

    @strawberry.mutation(
        description="Trade a refresh token (once) for a new access and refresh token; a "
        "refresh token used twice ends the whole session"
    )
    async def refresh_session(self, info: Info, input: RefreshInput) -> LoginPayload:
        return await identity.refresh_session(info, input)

    @strawberry.mutation(
        description="End the viewer's session now", permission_classes=[IsAuthenticated]
    )
    async def logout(self, info: Info) -> LogoutPayload:
        return await identity.logout(info)

    @strawberry.mutation(
        description="A kiosk or counter terminal asks to carry on as someone signed in "
        "elsewhere: a code and QR code to approve in the mobile app"
    )
    async def start_handoff(self, info: Info, input: StartHandoffInput) -> StartHandoffPayload:
        return await identity.start_handoff(info, input)

    @strawberry.mutation(
        description="The signed-in person lets the terminal showing this code carry on",
        permission_classes=[IsAuthenticated],
    )
    async def approve_handoff(
        self, info: Info, input: ApproveHandoffInput
    ) -> ApproveHandoffPayload:
        return await identity.approve_handoff(info, input)

    @strawberry.mutation(
        description="The terminal redeems its device code, once, for its own session"
    )
    async def complete_handoff(self, info: Info, input: CompleteHandoffInput) -> LoginPayload:
        return await identity.complete_handoff(info, input)

    @strawberry.mutation(
        description="收件: apply for a matter (a resident or enterprise for itself, or a "
        "receptionist at the counter for the resident named by applicantIdNumber)",
        permission_classes=[IsAuthenticated],
    )
    async def submit_case(self, info: Info, input: SubmitCaseInput) -> CasePayload:
        if submission.by_proxy(info, input):
            return await proxy.submit_for_resident(info, input)
        return await submission.submit_case(info, input)

    @strawberry.mutation(
        description="当场办结: an immediate matter completed on the spot, no acceptance notice",
        permission_classes=[IsAuthenticated],
    )
    async def complete_case(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info, input.number, Step.COMPLETE, _plain(input), input.licence_fields
        )

    @strawberry.mutation(
        description="一次性告知: list every missing or incorrect material, once",
        permission_classes=[IsAuthenticated],
    )
    async def issue_supplement_notice(
        self, info: Info, input: SupplementNoticeInput
    ) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            missing=[(m.name, m.note) for m in input.materials],
            supplement_days=input.deadline_days,
        )
        return await cases.take_step(info, input.number, Step.NOTIFY_SUPPLEMENT, given)

    @strawberry.mutation(
        description="补正: hand in everything the notice listed; the case is accepted",
        permission_classes=[IsAuthenticated],
    )
    async def supplement_materials(self, info: Info, input: SupplementInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            materials=cases.material_drafts(input.materials),
        )
        return await cases.take_step(info, input.number, Step.SUPPLEMENT, given)

    @strawberry.mutation(description="受理", permission_classes=[IsAuthenticated])
    async def accept_case(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info, input.number, Step.ACCEPT, _plain(input), input.licence_fields
        )

    @strawberry.mutation(
        description="不予受理 proposed at the window, with the reason (and, if not ours, the "
        "authority to apply to); it takes effect when a second person approves it "
        "(approveRejection)",
        permission_classes=[IsAuthenticated],
    )
    async def reject_case(self, info: Info, input: RejectCaseInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            rejection_reason=input.reason,
            authority=input.authority,
        )
        return await cases.take_step(info, input.number, Step.PROPOSE_REJECTION, given)

    @strawberry.mutation(description="审查 begins", permission_classes=[IsAuthenticated])
    async def start_review(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info, input.number, Step.START_REVIEW, _plain(input), input.licence_fields
        )

    @strawberry.mutation(
        description="准予 or 不予许可 (with reasons and the right to review or litigation)",
        permission_classes=[IsAuthenticated],
    )
    async def decide_case(self, info: Info, input: DecideCaseInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            decision=input.decision,
            reasons=input.reasons,
        )
        return await cases.take_step(info, input.number, Step.DECIDE, given, input.licence_fields)

    @strawberry.mutation(
        description="委托/下放: delegate a county item to all or listed towns (their items are "
        "published through the outbox); the county's admin or director",
        permission_classes=[IsAuthenticated],
    )
    async def delegate_matter(self, info: Info, input: DelegateMatterInput) -> DelegationPayload:
        return await delegation.delegate(info, input)

    @strawberry.mutation(
        description="清单公布: publish the catalogue as a new version — in June or December, "
        "once a batch; otherwise only as an urgent adjustment with a reason; the city's admins",
        permission_classes=[IsAuthenticated],
    )
    async def publish_catalogue(
        self, info: Info, input: PublishCatalogueInput
    ) -> CataloguePublicationPayload:
        return await publication_resolvers.publish(info, input)

    @strawberry.mutation(
        description="Revoke a delegation (收回); new cases go back to the county, cases in "
        "flight stay at the town",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_delegation(
        self, info: Info, input: RevokeDelegationInput
    ) -> DelegationPayload:
        return await delegation.revoke(info, input)

    @strawberry.mutation(
        description="转报: send a case received below its deciding level up its route (to the "
        "town that reviews first, else the deciding org, which accepts it on receipt)",
        permission_classes=[IsAuthenticated],
    )
    async def refer_case(self, info: Info, input: ReferCaseInput) -> CasePayload:
        return await referrals.refer(info, input.number, input.opinion, input.expected_version)

    @strawberry.mutation(
        description="联办: a department's director records the decision on its item; the "
        "lead department then decides the case (decideCase)",
        permission_classes=[IsAuthenticated],
    )
    async def record_part_decision(self, info: Info, input: PartDecisionInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            decision=input.decision,
            reasons=input.reasons,
        )
        return await cases.decide_part(info, input.number, input.implementation_code, given)

    @strawberry.mutation(
        description="送达: pickup with a receipt, or mail with a tracking number",
        permission_classes=[IsAuthenticated],
    )
    async def deliver_case(self, info: Info, input: DeliverCaseInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            delivery_method=input.method,
            delivery_reference=input.reference,
        )
        return await cases.deliver(info, input.number, input.window_id, given)

    @strawberry.mutation(description="归档", permission_classes=[IsAuthenticated])
    async def archive_case(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info, input.number, Step.ARCHIVE, _plain(input), input.licence_fields
        )

    @strawberry.mutation(
        description="撤回: the applicant takes back a case not yet decided",
        permission_classes=[IsAuthenticated],
    )
    async def withdraw_case(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info, input.number, Step.WITHDRAW, _plain(input), input.licence_fields
        )

    @strawberry.mutation(
        description="Send a FAILED cross-level message again: PENDING, its attempts "
        "counted afresh (an admin or supervisor of its jurisdiction; audited)",
        permission_classes=[IsAuthenticated],
    )
    async def retry_message(self, info: Info, input: RetryMessageInput) -> RetryMessagePayload:
        return await outbox_resolvers.retry_message(info, input)

    @strawberry.mutation(
        description="代办: a village agent records a resident's written or in-person "
        "authorization of the station, for a matter it handles in that mode",
        permission_classes=[IsAuthenticated],
    )
    async def record_proxy_authorization(
        self, info: Info, input: RecordProxyAuthorizationInput
    ) -> ProxyAuthorizationPayload:
        return await proxy.record_authorization(info, input)

    @strawberry.mutation(
        description="代办: a resident, in the app, authorizes the agents of a village "
        "station to handle a matter for them",
        permission_classes=[IsAuthenticated],
    )
    async def authorize_proxy(
        self, info: Info, input: AuthorizeProxyInput
    ) -> ProxyAuthorizationPayload:
        return await proxy.authorize(info, input)

    @strawberry.mutation(
        description="代办: the resident who gave an authorization (or the agent who recorded "
        "it) revokes it; it can no longer be used",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_proxy_authorization(
        self, info: Info, input: RevokeProxyAuthorizationInput
    ) -> ProxyAuthorizationPayload:
        return await proxy.revoke(info, input)

    @strawberry.mutation(
        description="暂扣: the issuing org's director or admin suspends a licence (reason "
        "required, audited); its status list says so at once",
        permission_classes=[IsAuthenticated],
    )
    async def suspend_licence(self, info: Info, input: LicenceActionInput) -> LicencePayload:
        return await licences.change_status(info, input.id, "SUSPEND_LICENCE", input.reason)

    @strawberry.mutation(
        description="Lift a suspension: the licence is VALID again",
        permission_classes=[IsAuthenticated],
    )
    async def reinstate_licence(self, info: Info, input: LicenceActionInput) -> LicencePayload:
        return await licences.change_status(info, input.id, "REINSTATE_LICENCE", input.reason)

    @strawberry.mutation(
        description="吊销/注销: revoke a licence for good (reason required, audited); "
        "verification fails online at once, offline once the verifier's status list "
        "is refreshed or stale",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_licence(self, info: Info, input: LicenceActionInput) -> LicencePayload:
        return await licences.change_status(info, input.id, "REVOKE_LICENCE", input.reason)

    @strawberry.mutation(
        description="换发: a new version of the licence (changed fields, a new validity); "
        "the old version is revoked as superseded",
        permission_classes=[IsAuthenticated],
    )
    async def reissue_licence(self, info: Info, input: ReissueLicenceInput) -> LicencePayload:
        return await licences.reissue(info, input)

    @strawberry.mutation(
        description="加注件: the holder asks for a copy bound to one purpose that expires "
        "(1–90 days), signed by the library; the use is recorded on the licence",
        permission_classes=[IsAuthenticated],
    )
    async def request_licence_copy(self, info: Info, input: LicenceCopyInput) -> LicenceCopyPayload:
        return await licences.request_copy(info, input)

    @strawberry.mutation(
        description="好差评: the applicant rates a case with a result, once per channel (the "
        "session's); a 差评 opens a rectification with a working-day deadline",
        permission_classes=[IsAuthenticated],
    )
    async def rate_case(self, info: Info, input: RateCaseInput) -> EvaluationPayload:
        return await evaluation_resolvers.rate_case(info, input)

    @strawberry.mutation(
        description="回访: staff of the case's org record calling the applicant back",
        permission_classes=[IsAuthenticated],
    )
    async def record_callback(self, info: Info, input: RecordCallbackInput) -> RectificationPayload:
        return await evaluation_resolvers.record_callback(info, input)

    @strawberry.mutation(
        description="整改完成: what was done about a 差评 (after the callback)",
        permission_classes=[IsAuthenticated],
    )
    async def complete_rectification(
        self, info: Info, input: CompleteRectificationInput
    ) -> RectificationPayload:
        return await evaluation_resolvers.complete_rectification(info, input)

    @strawberry.mutation(
        description="申诉: staff of the case's org appeal a 差评 they believe unfair (once)",
        permission_classes=[IsAuthenticated],
    )
    async def appeal_rating(self, info: Info, input: AppealRatingInput) -> EvaluationPayload:
        return await evaluation_resolvers.appeal_rating(info, input)

    @strawberry.mutation(
        description="A supervisor upholds an appeal (the rating leaves the figures, its "
        "rectification is voided) or dismisses it (with a note; the rating stands)",
        permission_classes=[IsAuthenticated],
    )
    async def decide_appeal(self, info: Info, input: DecideAppealInput) -> EvaluationPayload:
        return await evaluation_resolvers.decide_appeal(info, input)

    @strawberry.mutation(
        description="投诉 against a case, a window or a staff member, by a signed-in "
        "applicant; due for handling in working days",
        permission_classes=[IsAuthenticated],
    )
    async def file_complaint(self, info: Info, input: FileComplaintInput) -> ComplaintPayload:
        return await evaluation_resolvers.file_complaint(info, input)

    @strawberry.mutation(
        description="A supervisor or admin of the jurisdiction records how a complaint was handled",
        permission_classes=[IsAuthenticated],
    )
    async def handle_complaint(self, info: Info, input: HandleComplaintInput) -> ComplaintPayload:
        return await evaluation_resolvers.handle_complaint(info, input)

    @strawberry.mutation(
        description="The complainant says whether the handling satisfied them",
        permission_classes=[IsAuthenticated],
    )
    async def rate_complaint_handling(
        self, info: Info, input: RateComplaintHandlingInput
    ) -> ComplaintPayload:
        return await evaluation_resolvers.rate_complaint_handling(info, input)

    @strawberry.mutation(
        description="取号 for a matter, a window or a window kind at an org: a person in the "
        "app (MOBILE) or at a kiosk (KIOSK), or staff at the counter for a walk-in "
        "(COUNTER); only while a window that may call it is open",
        permission_classes=[IsAuthenticated],
    )
    async def issue_ticket(self, info: Info, input: IssueTicketInput) -> TicketPayload:
        return await window_resolvers.issue_ticket(info, input)

    @strawberry.mutation(
        description="叫号: the staff member on duty at the window (A post; B while A is "
        "away) calls the next ticket it may serve",
        permission_classes=[IsAuthenticated],
    )
    async def call_next_ticket(self, info: Info, input: CallNextTicketInput) -> TicketPayload:
        return await window_resolvers.call_next_ticket(info, input)

    @strawberry.mutation(
        description="The called person is at the window (CALLED → SERVING)",
        permission_classes=[IsAuthenticated],
    )
    async def serve_ticket(self, info: Info, input: TicketActionInput) -> TicketPayload:
        return await window_resolvers.serve_ticket(info, input)

    @strawberry.mutation(
        description="办结 at the window, optionally linked to the case it led to "
        "(a case of the org)",
        permission_classes=[IsAuthenticated],
    )
    async def finish_ticket(self, info: Info, input: FinishTicketInput) -> TicketPayload:
        return await window_resolvers.finish_ticket(info, input)

    @strawberry.mutation(
        description="过号: called, and nobody came",
        permission_classes=[IsAuthenticated],
    )
    async def mark_no_show(self, info: Info, input: TicketActionInput) -> TicketPayload:
        return await window_resolvers.mark_no_show(info, input)

    @strawberry.mutation(
        description="A no-show came back: called again at the same window (once)",
        permission_classes=[IsAuthenticated],
    )
    async def recall_ticket(self, info: Info, input: TicketActionInput) -> TicketPayload:
        return await window_resolvers.recall_ticket(info, input)

    @strawberry.mutation(
        description="转窗: send the person at the window to another window of the org, "
        "keeping their place by issue time",
        permission_classes=[IsAuthenticated],
    )
    async def transfer_ticket(self, info: Info, input: TransferTicketInput) -> TicketPayload:
        return await window_resolvers.transfer_ticket(info, input)

    @strawberry.mutation(
        description="Its holder gives up a waiting ticket",
        permission_classes=[IsAuthenticated],
    )
    async def cancel_ticket(self, info: Info, input: TicketActionInput) -> TicketPayload:
        return await window_resolvers.cancel_ticket(info, input)

    @strawberry.mutation(
        description="上岗: the staff member named on a window's A or B post signs in on it",
        permission_classes=[IsAuthenticated],
    )
    async def open_post(self, info: Info, input: WindowPostInput) -> WindowPayload:
        return await window_resolvers.open_post(info, input)

    @strawberry.mutation(
        description="离岗: the staff member signs off the window's post "
        "(the other post takes over)",
        permission_classes=[IsAuthenticated],
    )
    async def leave_post(self, info: Info, input: WindowPostInput) -> WindowPayload:
        return await window_resolvers.leave_post(info, input)

    @strawberry.mutation(
        description="AB角: the org's admin or director names a window's A and B posts",
        permission_classes=[IsAuthenticated],
    )
    async def set_window_posts(self, info: Info, input: SetWindowPostsInput) -> WindowPayload:
        return await window_resolvers.set_window_posts(info, input)

    @strawberry.mutation(
        description="A window's opening hours per kind of day (weekend, extended, holiday, "
        "24-hour)",
        permission_classes=[IsAuthenticated],
    )
    async def set_window_hours(self, info: Info, input: SetWindowHoursInput) -> WindowPayload:
        return await window_resolvers.set_window_hours(info, input)

    @strawberry.mutation(
        description="What a window serves: matters, a kiosk's functions, its ticket prefix",
        permission_classes=[IsAuthenticated],
    )
    async def set_window_services(self, info: Info, input: SetWindowServicesInput) -> WindowPayload:
        return await window_resolvers.set_window_services(info, input)

    @strawberry.mutation(
        description="预约: open slots of a window on a day, each with a capacity, within its hours",
        permission_classes=[IsAuthenticated],
    )
    async def open_appointment_slots(
        self, info: Info, input: OpenAppointmentSlotsInput
    ) -> AppointmentSlotsPayload:
        return await window_resolvers.open_appointment_slots(info, input)

    @strawberry.mutation(
        description="预约: a person books a slot (SLOT_FULL when no seat is left; once per slot)",
        permission_classes=[IsAuthenticated],
    )
    async def book_appointment(self, info: Info, input: BookAppointmentInput) -> AppointmentPayload:
        return await appointment_writes.book_appointment(info, input)

    @strawberry.mutation(
        description="The person cancels their appointment; the seat is free again",
        permission_classes=[IsAuthenticated],
    )
    async def cancel_appointment(
        self, info: Info, input: AppointmentActionInput
    ) -> AppointmentPayload:
        return await appointment_writes.cancel_appointment(info, input)

    @strawberry.mutation(
        description="签到 from 30 minutes before the slot: a ticket of the window, called "
        "before walk-ins",
        permission_classes=[IsAuthenticated],
    )
    async def check_in_appointment(
        self, info: Info, input: AppointmentActionInput
    ) -> AppointmentPayload:
        return await appointment_writes.check_in_appointment(info, input)


def _plain(input: CaseActionInput) -> StepInput:
    return StepInput(expected_version=input.expected_version, detail={"note": input.note})
