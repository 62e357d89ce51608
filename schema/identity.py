"""The identity layer in the schema: the viewer, sign-in payloads, hand-offs."""

from __future__ import annotations

import datetime as dt

import segno
import strawberry

from auth.handoff import StartedHandoff
from auth.models import Account, ServiceClient
from auth.policy import Resource, Target
from auth.representation import represented_by
from auth.sessions import SignIn
from auth.viewer import Viewer as ViewerIdentity
from levels.common.enums import Level
from schema.divisions import Department, Division, ServiceOrg
from schema.enums import AccountKind, Channel, RepresentativeRole, Role, Scope
from schema.info import Info
from schema.payloads import UserError


@strawberry.type(description="An enterprise the signed-in person may apply for (企业经办)")
class RepresentedEnterprise:
    name: str = strawberry.field(description="The enterprise's name")
    credit_code: str = strawberry.field(description="Pass as onBehalfOf in submitCase")
    role: RepresentativeRole = strawberry.field(
        description="Legal representative or authorized agent"
    )
    valid_until: dt.datetime | None = strawberry.field(
        description="When the authorization lapses (null: no end)"
    )


@strawberry.type(name="Viewer", description="Who is signed in")
class ViewerType:
    id: strawberry.ID = strawberry.field(description="The account (or machine client) id")
    kind: AccountKind = strawberry.field(
        description="PERSON, ENTERPRISE, STAFF, AGENT, AUDITOR or SERVICE"
    )
    username: str = strawberry.field(description="The username (or client id)")
    display_name: str = strawberry.field(description="The name to show")
    channel: Channel | None = strawberry.field(description="The channel of this session")
    session_id: str | None = strawberry.field(description="The session the token belongs to")
    roles: list[Role] = strawberry.field(description="A staff member's posts")
    scopes: list[Scope] = strawberry.field(description="A machine client's scopes")
    jurisdiction_code: str | None = strawberry.field(
        description="Staff: the org's division; agent: the village; auditor: the jurisdiction"
    )
    id_number_masked: str | None = strawberry.field(
        description="A resident's ID number, masked: the full number is never shown"
    )
    credit_code: str | None = strawberry.field(description="An enterprise's credit code")
    org_code: str | None = strawberry.field(description="A staff member's org")
    department_id: strawberry.Private[str | None]
    org_level: strawberry.Private[Level | None]
    # the identity a sign-in payload just issued (not the request's own viewer)
    issued: strawberry.Private[bool] = False

    def authz_target(self) -> Target:
        if self.issued:
            return Target(Resource.SESSION, owner=str(self.id))
        return Target(Resource.ACCOUNT, owner=str(self.id))

    @classmethod
    def of(cls, viewer: ViewerIdentity, account: Account, *, issued: bool = False) -> ViewerType:
        return cls(
            issued=issued,
            id=strawberry.ID(account.id),
            kind=account.kind,
            username=account.username,
            display_name=account.display_name,
            channel=viewer.channel,
            session_id=viewer.session_id,
            roles=sorted(viewer.roles, key=lambda r: r.value),
            scopes=[],
            jurisdiction_code=account.division_code,
            id_number_masked=account.id_number_masked,
            credit_code=account.credit_code,
            org_code=account.org_code,
            department_id=account.department_id,
            org_level=account.org_level,
        )

    @classmethod
    def of_client(cls, viewer: ViewerIdentity, client: ServiceClient) -> ViewerType:
        return cls(
            id=strawberry.ID(client.client_id),
            kind=AccountKind.SERVICE,
            username=client.client_id,
            display_name=client.name,
            channel=viewer.channel,
            session_id=None,
            roles=[],
            scopes=sorted(viewer.scopes, key=lambda s: s.value),
            jurisdiction_code=client.division_code,
            id_number_masked=None,
            credit_code=None,
            org_code=None,
            department_id=None,
            org_level=None,
        )

    @strawberry.field(description="The division the viewer answers for")
    async def jurisdiction(self, info: Info) -> Division | None:
        if self.jurisdiction_code is None:
            return None
        row = await info.context.loaders.division_by_code.load(self.jurisdiction_code)
        return Division.from_row(row) if row else None

    @strawberry.field(description="Staff: the service org")
    async def org(self, info: Info) -> ServiceOrg | None:
        if self.org_code is None or self.org_level is None:
            return None
        row = await info.context.loaders.service_org_by_code.load((self.org_level, self.org_code))
        return ServiceOrg.from_row(row) if row else None

    @strawberry.field(
        description="A person: the enterprises they represent (legal representative or "
        "authorized agent), now"
    )
    async def represents(self, info: Info) -> list[RepresentedEnterprise]:
        if self.kind is not AccountKind.PERSON:
            return []
        ctx = info.context
        async with ctx.identity.store.sessions() as session:
            rows = await represented_by(str(self.id), session=session, now=ctx.clock.now())
        return [
            RepresentedEnterprise(
                name=a.display_name,
                credit_code=a.credit_code or "",
                role=r.role,
                valid_until=r.valid_until,
            )
            for a, r in rows
        ]

    @strawberry.field(description="Staff: the department")
    async def department(self, info: Info) -> Department | None:
        if self.department_id is None:
            return None
        row = await info.context.loaders.department_by_id.load(self.department_id)
        return Department.from_row(row) if row else None


@strawberry.input(description="A person signs in with username and password on a channel")
class LoginInput:
    username: str = strawberry.field(description="The account's username")
    password: str = strawberry.field(description="Its password")
    channel: Channel = strawberry.field(
        description="The channel signing in: WEB, MOBILE, KIOSK or COUNTER"
    )


@strawberry.type(description="The tokens of a new session and who it is, or why sign-in failed")
class LoginPayload:
    access_token: str | None = strawberry.field(
        default=None, description="A JWT (EdDSA) to send as `Authorization: Bearer …`"
    )
    refresh_token: str | None = strawberry.field(
        default=None, description="Traded once for new tokens with `refreshSession`"
    )
    expires_in: int | None = strawberry.field(
        default=None, description="Seconds the access token lives"
    )
    token_type: str | None = strawberry.field(default=None, description="`Bearer`")
    viewer: ViewerType | None = strawberry.field(default=None, description="Who signed in")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )

    @classmethod
    def of(cls, sign_in: SignIn) -> LoginPayload:
        return cls(
            access_token=sign_in.access.token,
            refresh_token=sign_in.refresh_token,
            expires_in=sign_in.access.expires_in,
            token_type="Bearer",
            viewer=ViewerType.of(sign_in.viewer, sign_in.account, issued=True),
        )


@strawberry.input(description="A refresh token, traded once for new tokens")
class RefreshInput:
    refresh_token: str = strawberry.field(
        description="The refresh token; a second use revokes the whole session"
    )


@strawberry.type(description="Whether the session was revoked")
class LogoutPayload:
    revoked: bool = strawberry.field(description="True once the session's tokens are refused")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.input(description="A terminal nobody is signed in on starts a hand-off")
class StartHandoffInput:
    channel: Channel = strawberry.field(description="The channel of the starting terminal")


@strawberry.type(description="A hand-off waiting for approval on another channel")
class Handoff:
    user_code: str = strawberry.field(description="Shown on screen; typed or scanned in the app")
    device_code: str = strawberry.field(
        description="Secret of the starting terminal: redeem it with completeHandoff"
    )
    channel: Channel = strawberry.field(description="The terminal's channel (KIOSK, COUNTER …)")
    expires_at: dt.datetime = strawberry.field(description="When the codes stop working")
    expires_in: int = strawberry.field(description="Seconds until then")
    verification_uri: str = strawberry.field(description="Where the phone approves it")
    verification_uri_complete: str = strawberry.field(
        description="The same, with the user code filled in (what the QR code holds)"
    )

    @classmethod
    def of(cls, started: StartedHandoff, now: dt.datetime) -> Handoff:
        return cls(
            user_code=started.user_code,
            device_code=started.device_code,
            channel=started.channel,
            expires_at=started.expires_at,
            expires_in=int((started.expires_at - now).total_seconds()),
            verification_uri=started.verification_uri,
            verification_uri_complete=started.verification_uri_complete,
        )

    @strawberry.field(description="QR code of verificationUriComplete, as SVG markup")
    def qr_svg(self) -> str:
        return str(segno.make(self.verification_uri_complete, error="m").svg_inline(scale=4))

    @strawberry.field(description="The same QR code as a PNG data URI")
    def qr_png(self) -> str:
        png = segno.make(self.verification_uri_complete, error="m").png_data_uri(scale=4)
        return str(png)


@strawberry.type(description="The codes the terminal shows, or why none were made")
class StartHandoffPayload:
    handoff: Handoff | None = strawberry.field(default=None, description="The codes to show")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.input(description="The code the terminal shows, approved on the phone")
class ApproveHandoffInput:
    user_code: str = strawberry.field(description="The code the terminal shows, e.g. `BCDF-GHJK`")


@strawberry.type(description="Whether the hand-off was approved")
class ApproveHandoffPayload:
    approved: bool = strawberry.field(
        default=False, description="True once the terminal may complete the hand-off"
    )
    channel: Channel | None = strawberry.field(
        default=None, description="The channel that will carry on as the viewer"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.input(description="The terminal's secret code of the hand-off it started")
class CompleteHandoffInput:
    device_code: str = strawberry.field(
        description="The secret code `startHandoff` gave the terminal"
    )
