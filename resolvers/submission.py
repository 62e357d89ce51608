"""Resolvers of a case's arrival: ``submitCase`` and the counter's receipt that the
village station's proxy shares (``receive``) — who the applicant is, how the case
arrived, which item takes it, and the material drafts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import LOGIN_CHANNELS, AccountKind, Channel
from auth.idnumbers import id_number_hash, parse_id_number
from auth.models import Account
from auth.policy import (
    Action,
    Resource,
    Target,
    allows,
)
from auth.representation import represents
from auth.viewer import Viewer
from levels.calendar.workdays import load_calendar
from levels.cases import intake as case_intake
from levels.cases.enums import ApplicantKind
from levels.cases.errors import CaseErrorCode
from levels.cases.intake import Applicant, PartDraft, Receiver, Submission
from levels.cases.messages import record_applicant_language
from levels.cases.models import Case
from levels.common.codes import (
    ImplementationCode,
    parse_implementation_code,
    validate_uscc,
)
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.routes import delegation_in_force
from levels.node.intake import encode_item_read, encode_submission
from levels.node.steps import encode_actor
from resolvers import case_updates, library_reads, nodewrites, remote
from resolvers.cases import actor_of, material_drafts, refuse, window_key
from resolvers.fanout import guarded
from resolvers.languages import applicant_language
from resolvers.loaders import issuer_status
from resolvers.registry import Node
from schema.cases import CasePayload, CaseType
from schema.info import Info
from schema.payloads import user_errors

# which post takes which step (the policy table says who holds the post)


def _as_applicant(account: Account) -> Applicant:
    if account.kind is AccountKind.PERSON:
        return Applicant(
            ApplicantKind.PERSON,
            account.id,
            account.display_name,
            account.id_number_masked or "",
        )
    if account.kind is AccountKind.ENTERPRISE:
        return Applicant(
            ApplicantKind.ENTERPRISE,
            account.id,
            account.display_name,
            account.credit_code or "",
        )
    raise DomainError(CaseErrorCode.NOT_AN_APPLICANT, field=["input", "applicantIdNumber"])


async def _applicant(info: Info, id_number: str | None, on_behalf_of: str | None) -> Applicant:
    """Who applies: the signed-in resident or enterprise; an enterprise the signed-in
    person represents (``onBehalfOf``); at a counter, the resident by ID number or the
    enterprise by credit code."""
    ctx = info.context
    viewer = ctx.viewer
    async with ctx.identity.store.sessions() as session:
        if on_behalf_of is not None:
            code = validate_uscc(on_behalf_of.strip(), field=("input", "onBehalfOf"))
            account = await session.scalar(select(Account).where(Account.credit_code == code))
            if account is None:
                raise DomainError(CaseErrorCode.APPLICANT_NOT_FOUND, field=["input", "onBehalfOf"])
            if viewer.kind is AccountKind.PERSON and not await represents(
                viewer.subject, account.id, session=session, now=ctx.clock.now()
            ):
                raise DomainError(CaseErrorCode.NOT_A_REPRESENTATIVE, field=["input", "onBehalfOf"])
            if viewer.kind is AccountKind.ENTERPRISE and account.id != viewer.subject:
                raise DomainError(CaseErrorCode.NOT_A_REPRESENTATIVE, field=["input", "onBehalfOf"])
        elif viewer.kind in (AccountKind.PERSON, AccountKind.ENTERPRISE):
            account = await session.get(Account, viewer.subject)
        else:
            number = parse_id_number(id_number or "", field=("input", "applicantIdNumber"))
            account = await session.scalar(
                select(Account).where(
                    Account.id_number_hash == id_number_hash(ctx.identity.secret, number)
                )
            )
    if account is None:
        raise DomainError(CaseErrorCode.APPLICANT_NOT_FOUND, field=["input", "applicantIdNumber"])
    return _as_applicant(account)


async def _part_drafts(
    info: Info, lead: ImplementationCode, codes: Sequence[str]
) -> list[PartDraft]:
    """The other implementations of a joint application, with their catalogue names and
    legal limits; all at the lead's org (so in the lead's node)."""
    drafts: list[PartDraft] = []
    seen = {lead.code}
    for i, raw in enumerate(codes):
        where = ("input", "jointImplementationCodes", str(i))
        code = parse_implementation_code(raw, field=where)
        if code.code in seen:
            raise DomainError(CaseErrorCode.JOINT_SAME_DEPARTMENT, field=list(where))
        if code.org_code != lead.org_code or code.level is not lead.level:
            raise DomainError(CaseErrorCode.JOINT_NOT_SAME_ORG, field=list(where))
        seen.add(code.code)
        matter = await info.context.loaders.matter_by_code.load(code.basic_code)
        if matter is None:
            raise DomainError(CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=list(where))
        drafts.append(PartDraft(code.code, matter.name, matter.legal_time_limit_days))
    return drafts


Receive = Callable[[AsyncSession, AsyncSession | None, AsyncSession], Awaitable[Case]]


async def receive(here: Node, implementing: Node | None, library: Node, write: Receive) -> Case:
    """收件 in one transaction of the receiving store ``here``; ``write`` also gets a
    session of the implementing store (for the guide) when that is another one, and
    one of the city's licence library (``here``'s own when the city receives)."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(here.sessions.begin())
        catalogue = (
            await stack.enter_async_context(implementing.sessions()) if implementing else None
        )
        shelf = session if library is here else await stack.enter_async_context(library.sessions())
        return await write(session, catalogue, shelf)


def _lower_receiver(viewer: Viewer, code: ImplementationCode) -> Receiver | None:
    """Staff of an org below the implementing one receive for it (收件, then 转报)."""
    if (
        viewer.kind is AccountKind.STAFF
        and viewer.org_code is not None
        and viewer.org_level is not None
        and viewer.jurisdiction is not None
        and viewer.org_level.depth > code.level.depth
    ):
        return Receiver(viewer.org_level, viewer.org_code, viewer.jurisdiction)
    return None


def arrival_channel(viewer: Viewer, asked: Channel) -> Channel:
    """How a case arrived follows from who hands it in and where, not from what the
    client says: a resident's or enterprise's session channel (WEB, MOBILE, a KIOSK,
    or a COUNTER session handed off to them); staff receive at the COUNTER, or register
    a posted application (MAIL); an agent's is PROXY (with an authorization, checked
    in ``resolvers/proxy``); a machine client's SYSTEM."""
    if viewer.kind is AccountKind.STAFF:
        return Channel.MAIL if asked is Channel.MAIL else Channel.COUNTER
    if viewer.kind is AccountKind.AGENT:
        return Channel.PROXY
    if viewer.kind is AccountKind.SERVICE:
        return Channel.SYSTEM
    return viewer.channel if viewer.channel in LOGIN_CHANNELS else Channel.WEB


async def _delegated_in_force(info: Info, code: ImplementationCode) -> None:
    """A town's delegated item takes applications only while its delegation (the
    county's row, read now) is in force and names the town: a revoked delegation or
    one not yet effective refuses at once, whatever the relay has delivered."""
    if code.level is not Level.TOWN:
        return
    loaders = info.context.loaders
    impl = await loaders.implementation_by_code.load(code.code)
    if impl is None or impl.delegated_from is None:
        return  # the town's own item (or none: the store says so below)
    view = await loaders.delegation_by_id.load(impl.delegation_id) if impl.delegation_id else None
    known = {view.row.id: view} if view is not None else {}
    if delegation_in_force(impl, impl.division_code, known, info.context.clock.now()) is None:
        raise DomainError(
            CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=["input", "implementationCode"]
        )


async def implementing_node(info: Info, code: ImplementationCode) -> Node:
    """The node keeping an implementation: by its org's credit code while one node
    holds the level in the code's county (every map so far but a mixed one), else the
    owner of its row's division at its level (a 修文镇 item on 修文镇's own node)."""
    nodes = info.context.nodes
    candidates = nodes.org_nodes(code.org_code, code.level)
    if len(candidates) == 1:
        return candidates[0]
    impl = await info.context.loaders.implementation_by_code.load(code.code)
    if impl is None:
        return nodes.of_org(code.org_code, code.level)
    return nodes.owner_at(impl.division_code, code.level)


def by_proxy(info: Info, input: Any) -> bool:
    """代办: a village agent hands the case in for a resident who authorized the station
    (``resolvers/proxy``), not the applicant or the counter."""
    return info.context.viewer.kind is AccountKind.AGENT or input.proxy_authorization_id is not None


async def submit_case(info: Info, input: Any) -> CasePayload:
    ctx = info.context
    viewer = ctx.viewer
    try:
        code = parse_implementation_code(
            input.implementation_code, field=("input", "implementationCode")
        )
        node = await implementing_node(info, code)
        matter = await ctx.loaders.matter_by_code.load(code.basic_code)
        if matter is None:
            raise DomainError(
                CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=["input", "implementationCode"]
            )
        await _delegated_in_force(info, code)
        joint = await _part_drafts(info, code, input.joint_implementation_codes or [])
        window_id = window_key(input.window_id, code.level)
        applicant = await _applicant(info, input.applicant_id_number, input.on_behalf_of)
        receiver = _lower_receiver(viewer, code)
        at_org = receiver.org_code if receiver else code.org_code
        target = Target(
            Resource.CASE, owner=applicant.id, org_code=at_org, submitter=viewer.subject
        )
        if input.on_behalf_of is not None and viewer.kind is AccountKind.PERSON:
            # the representative applies in the enterprise's name (checked above)
            target = Target(Resource.CASE, owner=viewer.subject, org_code=code.org_code)
        if not allows(viewer, Action.SUBMIT_CASE, target):
            raise refuse(viewer, Action.SUBMIT_CASE, target)
        # a case received below the deciding level is kept where it is received
        here = ctx.nodes.owner(receiver.division_code) if receiver else node
        now = ctx.clock.now()

        language = applicant_language(input)
        submission = Submission(
            implementation_code=code.code,
            matter_name=matter.name,
            legal_limit_days=matter.legal_time_limit_days,
            applicant=applicant,
            channel=arrival_channel(viewer, input.channel).value,
            materials=material_drafts(input.materials),
            tolerance_deadline=input.tolerance_deadline,
            tolerance_consequence=input.tolerance_consequence,
            joint=joint,
            window_id=window_id,
            received_by=receiver,
            referral_days=ctx.settings.referral_limit_days,
        )
        if receiver is None and node.client is not None:
            # the implementing node receives it through its API, in its transaction
            return await _submit_at_node(info, node, submission, language, now)
        if receiver is not None and here.client is not None:
            # the node holding the receiving division, with the item read where it is kept
            item = None if node.id == here.id else await item_read(info, code.code)
            return await _submit_at_node(info, here, submission, language, now, item)

        async def write(
            session: AsyncSession, catalogue: AsyncSession | None, library: AsyncSession
        ) -> Case:
            case = await case_intake.submit_case(
                submission,
                session=session,
                actor=actor_of(info),
                now=now,
                calendar=await load_calendar(session=session),
                catalogue=catalogue,
                library=library,
                issuer_status=issuer_status(ctx.loaders),
                signer=ctx.licensing.signer,
            )
            await record_applicant_language(case, language, session=session)
            return case

        implementing = node if receiver and node.id != here.id else None
        case = await receive(here, implementing, ctx.nodes.single(Level.CITY), write)
    except DomainError as e:
        return CasePayload(errors=user_errors(e, ctx.locale))
    await case_updates.publish_case_updated(info.context.broker, case.number)
    return CasePayload(case=CaseType.from_row(case))


async def item_read(info: Info, code: str) -> dict[str, Any]:
    """The implementing item and its guide, read through the loaders (the API of the
    node keeping them, when it has an address), as ``receiveCase`` takes them."""
    loaders = info.context.loaders
    item = await loaders.implementation_by_code.load(code)
    if item is None:
        raise DomainError(
            CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=["input", "implementationCode"]
        )
    return encode_item_read(item, await loaders.materials_by_implementation.load(code))


async def _submit_at_node(
    info: Info,
    node: Node,
    submission: Submission,
    language: str | None,
    now: dt.datetime,
    item: dict[str, Any] | None = None,
) -> CasePayload:
    """``submitCase`` asked of the implementing node, or ``receiveCase`` of the node
    holding the division that received it below the deciding org
    (``levels/node/intake.py``), with the applicant's licences read in the city's
    library (``resolvers/library_reads.py``): its answer is the payload, as the SQL
    path's would have been (a node that does not answer — that one, or the city's for
    the library — is ``NodeUnavailable``, naming it; nothing written)."""
    client = node.client
    assert client is not None
    held = await library_reads.library_for(
        info, node, submission.applicant.id, submission.materials
    )
    sent = encode_submission(submission)
    actor = encode_actor(actor_of(info))

    async def call() -> dict[str, Any]:
        if submission.received_by is None:
            return await client.submit_case(
                sent, actor=actor, now=now, applicant_language=language, library=held
            )
        return await nodewrites.write(
            client,
            "receiveCase",
            actor=actor,
            now=now,
            submission=sent,
            item=item,
            applicantLanguage=language,
            library=held,
        )

    return await received_at_node(info, node, call)


async def received_at_node(
    info: Info, node: Node, call: Callable[[], Awaitable[dict[str, Any]]]
) -> CasePayload:
    """The payload of a receipt the node was asked for (``call``, behind its breaker):
    the case as received, ``caseUpdated`` published — or the node's refusal."""
    ctx = info.context
    client = node.client
    assert client is not None
    answer = await guarded(ctx.nodes.breakers, node, call, client.timeout)
    outcome = remote.step_outcome(answer)
    if outcome.error is not None or outcome.case is None:
        refused = outcome.error or DomainError(CaseErrorCode.CASE_NOT_FOUND)
        return CasePayload(errors=user_errors(refused, ctx.locale))
    await case_updates.publish_case_updated(ctx.broker, outcome.case.number)
    return CasePayload(case=CaseType.from_row(outcome.case))
