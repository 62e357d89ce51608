"""The policy table: who may read and do what, in one place.

Each (resource, action) pair lists its grants; a viewer is allowed when one grant
fits: the account kind, for staff one of the roles (none listed: any role), for
machine clients the scope, and the reach — anywhere, within the viewer's jurisdiction
(the object's division code starts with the significant prefix of the viewer's
division), or the viewer's own. Resolvers never decide this themselves: they ask
``allows``/``require``, and the schema guard asks it for every object it returns.
``tests/auth/test_policy_matrix.py`` walks every cell over HTTP."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

from auth.enums import HUMAN_KINDS, AccountKind, Role, Scope
from auth.errors import AuthErrorCode
from auth.viewer import Viewer
from levels.common.codes import DivisionCode, level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError


class Resource(enum.Enum):
    # the public catalogue: divisions, service orgs, departments, windows, matters,
    # published (also suspended and abolished) implementation items, delegations,
    # service routes — the service guide is public by law
    CATALOGUE = "catalogue"
    # an implementation item not yet published (a draft of the next list)
    DRAFT_ITEM = "draft-item"
    # the signed-in account itself (``me``)
    ACCOUNT = "account"
    # a sign-in session (and the identity a sign-in just issued)
    SESSION = "session"
    # an application (办件): its applicant, who handed it in, where it is
    CASE = "case"
    # the audit trail of a node: events and the chain's validity
    AUDIT = "audit"
    # a cross-level message (outbox): where a handoff stands, and its incidents
    MESSAGE = "message"
    # a resident's authorization of a village station's agents (代办授权)
    PROXY_AUTHORIZATION = "proxy-authorization"
    # a village station's ledger (台账) of the cases it received
    VILLAGE_LEDGER = "village-ledger"
    # an e-licence of the library (电子证照): its holder's, issued in a division
    LICENCE = "licence"
    # 好差评: a rating of a case, and the rectification (整改) a bad one opens; both
    # belong to the case's division and org, and to the applicant who rated
    EVALUATION = "evaluation"
    # 投诉 against a case, window or staff member: the division of its org
    COMPLAINT = "complaint"
    # a window at work: its posts (AB角), hours, services and queue (reading a window
    # and its queue state is the public CATALOGUE: a hall display shows no one's data)
    WINDOW = "window"
    # a queue ticket (取号): its holder's (none for a walk-in's counter ticket), at its org
    TICKET = "ticket"
    # an appointment (预约): the person's who booked it, at the window's org
    APPOINTMENT = "appointment"
    # the supervision figures (电子监察, 月报表) of a division and everything below it
    SUPERVISION = "supervision"
    # 许可结果公开: a decided case's public fields (matter, org, decision, day, a masked
    # applicant), where it was decided
    PUBLIC_DECISION = "public-decision"
    # 月报表备案: a town centre's filed monthly report, at its org and division
    MONTHLY_REPORT = "monthly-report"


class Action(enum.Enum):
    READ = "read"
    SIGN_IN = "sign-in"  # login, refresh, start and complete a hand-off
    APPROVE_HANDOFF = "approve-handoff"
    LOGOUT = "logout"
    # the steps of a case, by the post that takes them (DESIGN §3)
    SUBMIT_CASE = "submit-case"
    RECEIVE_CASE = "receive-case"  # notice, accept, reject, complete on the spot (受理)
    CORRECT_MATERIALS = "correct-materials"  # 当场更正 at the counter, then 受理
    # 窗口无否决权: a second person approves (or declines) the window's rejection
    APPROVE_REJECTION = "approve-rejection"
    REVIEW_CASE = "review-case"  # review, special procedures (审查)
    DECIDE_CASE = "decide-case"  # approve or deny (决定)
    DELIVER_CASE = "deliver-case"  # deliver, archive (出件)
    SUPPLEMENT_CASE = "supplement-case"  # hand in what the notice lists (补正)
    WITHDRAW_CASE = "withdraw-case"  # the applicant takes it back (撤回)
    RETRY_MESSAGE = "retry-message"  # send a FAILED cross-level message again
    REFER_CASE = "refer-case"  # send it up its route (转报 / 初审后上报)
    # 转报 (seed 000 衔接办理): the deciding org tells the station that received the case
    # what its file lacks, once; the station supplies it (the resident is not asked again)
    NOTIFY_STATION = "notify-station"
    SUPPLEMENT_AT_STATION = "supplement-at-station"
    DELEGATE_MATTER = "delegate-matter"  # delegate a county item to towns, or revoke it
    PUBLISH_CATALOGUE = "publish-catalogue"  # publish the lists as a new version (清单公布)
    # 代办: a resident authorizes a station in the app; an agent records a written
    # or in-person one; the resident (or the agent who recorded it) revokes it
    AUTHORIZE_PROXY = "authorize-proxy"
    RECORD_PROXY = "record-proxy"
    REVOKE_PROXY = "revoke-proxy"
    # e-licences: the issuing org suspends, reinstates, revokes or reissues; the
    # holder asks for a purpose-bound copy (加注件)
    MANAGE_LICENCE = "manage-licence"
    COPY_LICENCE = "copy-licence"
    # 好差评: the applicant rates; staff of the case's org call back, rectify and
    # appeal a rating; a supervisor decides the appeal; supervisors and auditors read
    # the figures (roll-ups)
    RATE_CASE = "rate-case"
    RECTIFY = "rectify"
    DECIDE_APPEAL = "decide-appeal"
    READ_FIGURES = "read-figures"
    # 投诉: the applicant files and rates the handling; a supervisor or admin handles
    FILE_COMPLAINT = "file-complaint"
    HANDLE_COMPLAINT = "handle-complaint"
    # windows: the hall manager sets posts, hours, services and appointment slots; the
    # staff named on a post sign in and out of it; the staff on duty call and serve
    # (who is on duty is the window's rule: levels/windows/queue.py)
    MANAGE_WINDOW = "manage-window"
    TAKE_POST = "take-post"
    CALL_TICKET = "call-ticket"
    # tickets and appointments: a person takes a ticket (app, kiosk) or staff hand one
    # to a walk-in at the counter; the holder cancels; a person books, cancels and
    # checks in their own appointment
    ISSUE_TICKET = "issue-ticket"
    CANCEL_TICKET = "cancel-ticket"
    BOOK_APPOINTMENT = "book-appointment"
    # 上门办理: the station's agents record a home visit in their village's ledger
    RECORD_VISIT = "record-visit"
    # 月报表备案: the centre's director or admin files its monthly report
    FILE_REPORT = "file-report"


class Reach(enum.Enum):
    ANYWHERE = "anywhere"
    JURISDICTION = "jurisdiction"
    OWN = "own"
    # staff acting at their own service org (where the case is now)
    ORG = "org"
    # what the viewer handed in for someone else (a representative's, the agent who
    # recorded an authorization)
    SUBMITTED = "submitted"
    # what was received at the viewer's station: a village agent acts for the station,
    # so every case handed in at their village is theirs to read and carry on (A/B 岗)
    STATION = "station"
    # staff of the org that received the case (its number names their division),
    # wherever the case is now
    RECEIVED = "received"


ALL_KINDS = frozenset(AccountKind)


@dataclass(frozen=True)
class Grant:
    kinds: frozenset[AccountKind] | None  # None: anyone, signed in or not
    reach: Reach = Reach.ANYWHERE
    roles: frozenset[Role] = field(default_factory=frozenset)
    scope: Scope | None = None


@dataclass(frozen=True)
class Target:
    resource: Resource
    division_code: str | None = None  # where the object is
    owner: str | None = None  # whose it is (account or client id)
    org_code: str | None = None  # the service org that holds it
    submitter: str | None = None  # who handed it in
    received_at: str | None = None  # the division whose org received it (a case number's)


def _kinds(*kinds: AccountKind) -> frozenset[AccountKind]:
    return frozenset(kinds)


APPLICANTS = _kinds(AccountKind.PERSON, AccountKind.ENTERPRISE)
STAFF = _kinds(AccountKind.STAFF)
AGENTS = _kinds(AccountKind.AGENT)


def _post(*roles: Role) -> Grant:
    """Staff holding one of ``roles``, at the org that holds the case."""
    return Grant(STAFF, Reach.ORG, roles=frozenset(roles))


POLICY: dict[tuple[Resource, Action], tuple[Grant, ...]] = {
    (Resource.CATALOGUE, Action.READ): (Grant(None),),
    # the county centre's admin or director delegates its items (the org's own)
    (Resource.CATALOGUE, Action.DELEGATE_MATTER): (_post(Role.ADMIN, Role.DIRECTOR),),
    # 000 "于6月、12月…集中公布1次": the city's catalogue admins (the catalogue is the
    # city's: its division is the target, beyond any county admin's reach)
    (Resource.CATALOGUE, Action.PUBLISH_CATALOGUE): (
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.ADMIN})),
    ),
    (Resource.DRAFT_ITEM, Action.READ): (
        Grant(_kinds(AccountKind.STAFF), Reach.JURISDICTION),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
        Grant(_kinds(AccountKind.SERVICE), Reach.JURISDICTION, scope=Scope.CATALOGUE_READ),
    ),
    # 000 "应当将许可结果予以公开，公众有权查阅": anyone, signed in or not
    (Resource.PUBLIC_DECISION, Action.READ): (Grant(None),),
    (Resource.ACCOUNT, Action.READ): (Grant(ALL_KINDS, Reach.OWN),),
    (Resource.SESSION, Action.SIGN_IN): (Grant(None),),
    # a sign-in's result (the new session's viewer) goes to whoever presented the
    # credentials, who is not yet signed in on this request
    (Resource.SESSION, Action.READ): (Grant(None),),
    (Resource.SESSION, Action.APPROVE_HANDOFF): (Grant(HUMAN_KINDS, Reach.OWN),),
    (Resource.SESSION, Action.LOGOUT): (Grant(HUMAN_KINDS, Reach.OWN),),
    (Resource.CASE, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        # what a person handed in as an enterprise's representative
        Grant(APPLICANTS, Reach.SUBMITTED),
        # every agent of the station that received it, whichever of them handed it in
        Grant(AGENTS, Reach.STATION),
        Grant(STAFF, Reach.JURISDICTION),
        # the receptionist of the org that received it follows it up its route
        Grant(STAFF, Reach.RECEIVED, roles=frozenset({Role.RECEPTIONIST})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
        Grant(_kinds(AccountKind.SERVICE), Reach.JURISDICTION, scope=Scope.CASES_READ),
    ),
    (Resource.CASE, Action.SUBMIT_CASE): (
        Grant(APPLICANTS, Reach.OWN),
        _post(Role.RECEPTIONIST),
        # 代办: a village agent, received at their village (with an authorization)
        Grant(AGENTS, Reach.JURISDICTION),
    ),
    (Resource.CASE, Action.RECEIVE_CASE): (
        _post(Role.RECEPTIONIST),
        # 即时办理: a village agent completes the village's immediate matters on the spot
        Grant(AGENTS, Reach.JURISDICTION),
    ),
    # 当场更正: the receptionist the applicant stands before, at the org holding the case
    (Resource.CASE, Action.CORRECT_MATERIALS): (_post(Role.RECEPTIONIST),),
    # 窗口无否决权: the department head of the org holding the case (never the proposer:
    # levels/cases/rejection.py)
    (Resource.CASE, Action.APPROVE_REJECTION): (_post(Role.DIRECTOR),),
    (Resource.CASE, Action.REVIEW_CASE): (_post(Role.REVIEWER),),
    (Resource.CASE, Action.DECIDE_CASE): (_post(Role.DIRECTOR),),
    (Resource.CASE, Action.REFER_CASE): (
        _post(Role.RECEPTIONIST, Role.REVIEWER),
        # a village agent, for cases of their village
        Grant(_kinds(AccountKind.AGENT), Reach.JURISDICTION),
        # a county's own system, within its county
        Grant(_kinds(AccountKind.SERVICE), Reach.JURISDICTION, scope=Scope.CASES_REFER),
    ),
    (Resource.CASE, Action.NOTIFY_STATION): (_post(Role.RECEPTIONIST, Role.REVIEWER),),
    (Resource.CASE, Action.SUPPLEMENT_AT_STATION): (
        Grant(AGENTS, Reach.STATION),
        Grant(STAFF, Reach.RECEIVED, roles=frozenset({Role.RECEPTIONIST})),
    ),
    (Resource.CASE, Action.DELIVER_CASE): (_post(Role.OUTPUT_CLERK),),
    (Resource.CASE, Action.SUPPLEMENT_CASE): (
        Grant(APPLICANTS, Reach.OWN),
        Grant(APPLICANTS, Reach.SUBMITTED),
        _post(Role.RECEPTIONIST),
    ),
    (Resource.CASE, Action.WITHDRAW_CASE): (
        Grant(APPLICANTS, Reach.OWN),
        Grant(APPLICANTS, Reach.SUBMITTED),
    ),
    # 代办: an agent's jurisdiction is their village
    (Resource.PROXY_AUTHORIZATION, Action.READ): (
        Grant(_kinds(AccountKind.PERSON), Reach.OWN),
        Grant(AGENTS, Reach.JURISDICTION),
        Grant(STAFF, Reach.JURISDICTION),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.PROXY_AUTHORIZATION, Action.AUTHORIZE_PROXY): (
        Grant(_kinds(AccountKind.PERSON), Reach.OWN),
    ),
    (Resource.PROXY_AUTHORIZATION, Action.RECORD_PROXY): (Grant(AGENTS, Reach.JURISDICTION),),
    (Resource.PROXY_AUTHORIZATION, Action.REVOKE_PROXY): (
        Grant(_kinds(AccountKind.PERSON), Reach.OWN),
        # the agent who recorded it, struck out by mistake
        Grant(AGENTS, Reach.SUBMITTED),
    ),
    (Resource.VILLAGE_LEDGER, Action.READ): (
        Grant(AGENTS, Reach.JURISDICTION),
        Grant(STAFF, Reach.JURISDICTION),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    # a licence's division is its issuer's: staff and auditors see what their
    # jurisdiction issued; the holder sees their own (the wallet)
    (Resource.VILLAGE_LEDGER, Action.RECORD_VISIT): (Grant(AGENTS, Reach.JURISDICTION),),
    (Resource.LICENCE, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        Grant(STAFF, Reach.JURISDICTION),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.LICENCE, Action.MANAGE_LICENCE): (_post(Role.DIRECTOR, Role.ADMIN),),
    (Resource.LICENCE, Action.COPY_LICENCE): (Grant(APPLICANTS, Reach.OWN),),
    (Resource.EVALUATION, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        _post(),
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.EVALUATION, Action.RATE_CASE): (Grant(APPLICANTS, Reach.OWN),),
    (Resource.EVALUATION, Action.RECTIFY): (_post(),),
    (Resource.EVALUATION, Action.DECIDE_APPEAL): (
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
    ),
    (Resource.EVALUATION, Action.READ_FIGURES): (
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.COMPLAINT, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.COMPLAINT, Action.FILE_COMPLAINT): (Grant(APPLICANTS, Reach.OWN),),
    (Resource.COMPLAINT, Action.HANDLE_COMPLAINT): (
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
    ),
    (Resource.SUPERVISION, Action.READ_FIGURES): (
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
        Grant(
            STAFF,
            Reach.JURISDICTION,
            roles=frozenset({Role.SUPERVISOR, Role.ADMIN, Role.DIRECTOR}),
        ),
    ),
    # 002 "报县政务中心备案": the centre files; the county's supervisors and auditors read
    (Resource.MONTHLY_REPORT, Action.FILE_REPORT): (_post(Role.DIRECTOR, Role.ADMIN),),
    (Resource.MONTHLY_REPORT, Action.READ): (
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
        Grant(
            STAFF,
            Reach.JURISDICTION,
            roles=frozenset({Role.SUPERVISOR, Role.ADMIN, Role.DIRECTOR}),
        ),
    ),
    (Resource.WINDOW, Action.MANAGE_WINDOW): (_post(Role.ADMIN, Role.DIRECTOR),),
    (Resource.WINDOW, Action.TAKE_POST): (_post(),),
    (Resource.WINDOW, Action.CALL_TICKET): (_post(),),
    (Resource.TICKET, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        _post(),
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.TICKET, Action.ISSUE_TICKET): (Grant(APPLICANTS, Reach.OWN), _post()),
    (Resource.TICKET, Action.CANCEL_TICKET): (Grant(APPLICANTS, Reach.OWN),),
    (Resource.APPOINTMENT, Action.READ): (
        Grant(APPLICANTS, Reach.OWN),
        _post(),
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.APPOINTMENT, Action.BOOK_APPOINTMENT): (Grant(APPLICANTS, Reach.OWN),),
    (Resource.AUDIT, Action.READ): (
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.SUPERVISOR})),
    ),
    # a message belongs to its case's division (else its source org's)
    (Resource.MESSAGE, Action.READ): (
        Grant(STAFF, Reach.JURISDICTION),
        Grant(_kinds(AccountKind.AUDITOR), Reach.JURISDICTION),
    ),
    (Resource.MESSAGE, Action.RETRY_MESSAGE): (
        Grant(STAFF, Reach.JURISDICTION, roles=frozenset({Role.ADMIN, Role.SUPERVISOR})),
    ),
}


def served_village(viewer: Viewer) -> str | None:
    """The village whose convenience service station the viewer serves: an agent's
    (their jurisdiction, a village), else None. The one place that says so."""
    code = viewer.jurisdiction
    if viewer.kind is AccountKind.AGENT and code and level_of_division(code) is Level.VILLAGE:
        return code
    return None


@functools.lru_cache(maxsize=4096)
def _prefix_of(code: str) -> str | None:
    level = level_of_division(code)
    return DivisionCode(code, level).prefix if level else None


def jurisdiction_prefix(viewer: Viewer) -> str | None:
    """The division-code prefix of everything under the viewer's jurisdiction (worked
    out once per code: the READ guard asks it for every object of a page)."""
    code = viewer.jurisdiction
    return _prefix_of(code) if code else None


def _reaches(grant: Grant, viewer: Viewer, target: Target) -> bool:
    if grant.reach is Reach.ANYWHERE:
        return True
    if grant.reach is Reach.OWN:
        return target.owner is None or target.owner == viewer.subject
    if grant.reach is Reach.ORG:
        return viewer.org_code is not None and target.org_code == viewer.org_code
    if grant.reach is Reach.SUBMITTED:
        return target.submitter is not None and target.submitter == viewer.subject
    if grant.reach is Reach.STATION:
        village = served_village(viewer)
        return village is not None and target.received_at == village
    if grant.reach is Reach.RECEIVED:
        return viewer.jurisdiction is not None and target.received_at == viewer.jurisdiction
    prefix = jurisdiction_prefix(viewer)
    return prefix is not None and (target.division_code or "").startswith(prefix)


def _fits(grant: Grant, viewer: Viewer, target: Target) -> bool:
    if grant.kinds is not None and viewer.kind not in grant.kinds:
        return False
    if grant.roles and not grant.roles & viewer.roles:
        return False
    if grant.scope is not None and grant.scope not in viewer.scopes:
        return False
    return _reaches(grant, viewer, target)


def allows(viewer: Viewer, action: Action, target: Target) -> bool:
    # a loop, not any() over a generator: asked for every object of a page
    for grant in POLICY.get((target.resource, action), ()):  # noqa: SIM110
        if _fits(grant, viewer, target):
            return True
    return False


def require(viewer: Viewer, action: Action, target: Target) -> None:
    """Raise UNAUTHENTICATED (nobody signed in) or FORBIDDEN unless allowed."""
    if not allows(viewer, action, target):
        code = AuthErrorCode.FORBIDDEN if viewer.authenticated else AuthErrorCode.UNAUTHENTICATED
        raise DomainError(code)


def draft_prefix(viewer: Viewer) -> str | None:
    """Where the viewer may see draft items: a division-code prefix ("" = anywhere),
    or None for nowhere. Lists filter by it so they never return a forbidden row."""
    grants = POLICY[(Resource.DRAFT_ITEM, Action.READ)]
    probe = Target(Resource.DRAFT_ITEM)
    for grant in grants:
        if _fits(Grant(grant.kinds, Reach.ANYWHERE, grant.roles, grant.scope), viewer, probe):
            return "" if grant.reach is Reach.ANYWHERE else jurisdiction_prefix(viewer)
    return None


def refusal(viewer: Viewer, action: Action, target: Target) -> str:
    """Why ``action`` is refused, for a payload error: ``"ROLE"`` when no grant fits
    the viewer's kind and roles, ``"REACH"`` when one does but not here."""
    for grant in POLICY.get((target.resource, action), ()):
        anywhere = Grant(grant.kinds, Reach.ANYWHERE, grant.roles, grant.scope)
        if _fits(anywhere, viewer, target):
            return "REACH"
    return "ROLE"
