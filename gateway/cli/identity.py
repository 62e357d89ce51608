"""``govhub user|client|keys``: accounts (residents, enterprises, staff, village agents,
auditors), machine clients with their public keys, and the token signing keys."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from auth.accounts import (
    AccountDraft,
    account_by_username,
    add_account,
    add_client,
    client_algorithm,
    list_accounts,
    public_jwk_from_pem,
)
from auth.enums import HUMAN_KINDS, AccountKind, RepresentativeRole, Role, Scope
from auth.keys import ALGORITHM, list_signing_keys, rotate_keys
from auth.models import Account, Representation, ServiceClient, SigningKey
from auth.representation import add_representation
from gateway.cli.base import (
    CLOCK,
    SECRET,
    STORES,
    load_settings,
    main,
    now_of,
    reads,
    require_migrated,
    run_on,
    secret_of,
    stamp,
)
from gateway.nodes import NodeRegistry
from levels.common.clock import CHINA
from levels.common.codes import level_of_division, parse_division, validate_uscc
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.service import departments_by_id, divisions_by_code, orgs_by_code

_HUMAN_KINDS = [k.value for k in AccountKind if k in HUMAN_KINDS]
# the options each kind of account takes (required ones first), by parameter name
_KIND_OPTIONS: dict[AccountKind, tuple[set[str], set[str]]] = {
    AccountKind.PERSON: ({"id_number"}, set()),
    AccountKind.ENTERPRISE: ({"credit_code"}, set()),
    AccountKind.STAFF: ({"org", "roles"}, {"department"}),
    AccountKind.AGENT: ({"division"}, set()),
    AccountKind.AUDITOR: ({"division"}, set()),
}
_FLAGS = {
    "id_number": "--id-number",
    "credit_code": "--credit-code",
    "org": "--org",
    "department": "--department",
    "roles": "--role",
    "division": "--division",
}


@main.group("user")
def user_group() -> None:
    """Accounts: residents, enterprises, staff, village agents, auditors."""


async def _staff_org(nodes: NodeRegistry, org: str, department: str | None) -> ServiceOrg:
    """The service org of a staff member, found in the store of its level, with the
    department (if named) checked to be one of its own."""
    code = validate_uscc(org.strip().upper(), field="org")
    for node in nodes:
        async with node.sessions() as session:
            found = await orgs_by_code([code], session=session)
            if not found:
                continue
            if department is not None:
                deps = await departments_by_id([department], session=session)
                if not deps or deps[0].org_code != found[0].code:
                    raise click.ClickException(
                        f"department {department} is not a department of "
                        f"{found[0].name} ({found[0].code})"
                    )
            return found[0]
    raise DomainError(ErrorCode.ORG_NOT_FOUND, field=["org"], detail=code)


async def _known_division(nodes: NodeRegistry, code: str, *, field: str) -> str:
    """A division code that is well formed and held by the store of its level."""
    division = parse_division(code.strip(), field=field)
    async with nodes.owner(division).sessions() as session:
        if not await divisions_by_code([division.code], session=session):
            raise DomainError(ErrorCode.DIVISION_NOT_FOUND, field=[field], detail=division.code)
    return division.code


@reads(STORES, SECRET, CLOCK)
@user_group.command("add")
@click.option("--username", required=True, help="3-64 letters, digits, dots, dashes, underscores.")
@click.option("--kind", required=True, type=click.Choice(_HUMAN_KINDS))
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="GOVHUB_NEW_PASSWORD",
    help="At least 10 characters. Default: GOVHUB_NEW_PASSWORD, else asked for (hidden).",
)
@click.option("--id-number", help="PERSON: the resident ID number (stored hashed and masked).")
@click.option("--credit-code", help="ENTERPRISE: its unified social credit code.")
@click.option("--org", help="STAFF: the unified social credit code of the service org.")
@click.option("--department", help="STAFF: a department id of that org, e.g. 140702000000D01.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice([r.value for r in Role]),
    help="STAFF: a role (repeat for several).",
)
@click.option("--division", help="AGENT: the village's division code; AUDITOR: the jurisdiction's.")
def user_add(
    username: str,
    kind: str,
    display_name: str,
    password: str,
    id_number: str | None,
    credit_code: str | None,
    org: str | None,
    department: str | None,
    roles: tuple[str, ...],
    division: str | None,
) -> None:
    """Add an account, e.g. a staff member of a service org:

    \b
    govhub user add --username yuci.clerk --kind STAFF --name 榆次受理员 \\
        --org <USCC> --department 140702000000D01 --role RECEPTIONIST
    """
    account_kind = AccountKind(kind)
    given = {
        "id_number": id_number,
        "credit_code": credit_code,
        "org": org,
        "department": department,
        "roles": roles or None,
        "division": division,
    }
    required, optional = _KIND_OPTIONS[account_kind]
    for name, value in given.items():
        if name in required and value is None:
            raise click.UsageError(f"{_FLAGS[name]} is required for {kind} accounts")
        if name not in required | optional and value is not None:
            raise click.UsageError(f"{_FLAGS[name]} does not apply to {kind} accounts")
    settings = load_settings()
    secret = secret_of(settings)

    async def run(nodes: NodeRegistry) -> tuple[Account, str]:
        await require_migrated(nodes, levels=True)
        draft = AccountDraft(
            username=username.strip(),
            kind=account_kind,
            display_name=display_name.strip(),
            password=password,
            id_number=id_number,
            credit_code=credit_code.strip().upper() if credit_code else None,
            roles=frozenset(Role(r) for r in roles),
        )
        detail = ""
        if account_kind is AccountKind.STAFF:
            assert org is not None
            found = await _staff_org(nodes, org, department)
            draft = replace(
                draft,
                org_code=found.code,
                org_level=found.level,
                division_code=found.division_code,
                department_id=department,
            )
            detail = f", org {found.name} ({found.code}, {found.level.value})"
        elif division is not None:  # AGENT, AUDITOR
            code = await _known_division(nodes, division, field="division")
            if account_kind is AccountKind.AGENT and level_of_division(code) is not Level.VILLAGE:
                raise DomainError(
                    ErrorCode.LEVEL_MISMATCH, field=["division"], detail="an agent serves a village"
                )
            draft = replace(draft, division_code=code)
        async with nodes.identity.sessions.begin() as session:
            account = await add_account(draft, session=session, secret=secret, now=now_of(settings))
        return account, detail

    account, detail = run_on(settings, run)
    if account.id_number_masked:
        detail += f", ID number {account.id_number_masked}"
    if account.credit_code:
        detail += f", credit code {account.credit_code}"
    if account.division_code:
        detail += f", jurisdiction {account.division_code}"
    if account.roles:
        detail += f", roles {' '.join(account.roles)}"
    click.echo(f"account added: {account.username} ({account.kind.value}, id {account.id}){detail}")


@reads(STORES)
@user_group.command("list")
@click.option("--kind", type=click.Choice(_HUMAN_KINDS))
def user_list(kind: str | None) -> None:
    """List accounts, by username: kind, name, jurisdiction, roles, masked ID."""
    settings = load_settings()

    async def run(nodes: NodeRegistry) -> list[Account]:
        await require_migrated(nodes)
        async with nodes.identity.sessions() as session:
            return await list_accounts(session=session, kind=AccountKind(kind) if kind else None)

    accounts = run_on(settings, run)
    if not accounts:
        click.echo("no accounts")
        return
    click.echo("username\tkind\tname\tjurisdiction\troles\tid")
    for a in accounts:
        shown_id = a.id_number_masked or a.credit_code
        cells = [a.username, a.kind.value, a.display_name, a.division_code]
        cells += [",".join(a.roles), shown_id]
        click.echo("\t".join(c or "-" for c in cells))


@reads(STORES, CLOCK)
@user_group.command("represent")
@click.option("--person", required=True, help="Username of the PERSON who acts.")
@click.option("--enterprise", required=True, help="Username of the ENTERPRISE they act for.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in RepresentativeRole]),
    default=RepresentativeRole.AUTHORIZED_AGENT.value,
    show_default=True,
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day of the authorization (China time); none: until revoked.",
)
def user_represent(person: str, enterprise: str, role: str, until: dt.datetime | None) -> None:
    """Let a person apply in an enterprise's name (submitCase onBehalfOf)."""
    settings = load_settings()

    async def run(nodes: NodeRegistry) -> tuple[Account, Account]:
        await require_migrated(nodes)
        async with nodes.identity.sessions.begin() as session:
            who = await account_by_username(person, session=session)
            firm = await account_by_username(enterprise, session=session)
            if who is None or who.kind is not AccountKind.PERSON:
                raise click.UsageError(f"no PERSON account {person}")
            if firm is None or firm.kind is not AccountKind.ENTERPRISE:
                raise click.UsageError(f"no ENTERPRISE account {enterprise}")
            ends = (
                dt.datetime.combine(until.date() + dt.timedelta(days=1), dt.time(), tzinfo=CHINA)
                if until
                else None
            )
            if await session.get(Representation, (firm.id, who.id)) is not None:
                raise click.UsageError(f"{person} already represents {enterprise}")
            await add_representation(
                firm,
                who,
                RepresentativeRole(role),
                session=session,
                now=now_of(settings),
                valid_until=ends,
            )
        return who, firm

    who, firm = run_on(settings, run)
    lasting = f" until {until.date().isoformat()}" if until else ""
    click.echo(
        f"{who.username} ({who.display_name}) represents {firm.username} "
        f"({firm.display_name}, {firm.credit_code}) as {role}{lasting}"
    )


@main.group("client")
def client_group() -> None:
    """Machine clients: a county's own system, signing its token requests (RFC 7523)."""


def _write_private_key(path: Path, pem: bytes) -> None:
    """Write a private key readable by its owner only; never over an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{path} exists already: not overwriting it") from None
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        os.chmod(path, 0o600)  # whatever the umask
        f.write(pem)


@reads(STORES, CLOCK, "GOVHUB_PUBLIC_URL", "GOVHUB_HOST", "GOVHUB_PORT")
@client_group.command("add")
@click.option("--id", "client_id", required=True, help="The client id, e.g. yuci-system.")
@click.option("--name", required=True, help="What the client is, e.g. 榆次区政务服务系统.")
@click.option("--division", required=True, help="The division code of the county it serves.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([s.value for s in Scope]),
    help="A scope granted (repeat for several). Default: all.",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The client's PEM public key (P-256 or Ed25519).",
)
@click.option(
    "--generate-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Make a new P-256 key, write its private key (PKCS8 PEM, mode 0600) here.",
)
def client_add(
    client_id: str,
    name: str,
    division: str,
    scopes: tuple[str, ...],
    public_key: Path | None,
    generate_key: Path | None,
) -> None:
    """Register a machine client with its public key."""
    if (public_key is None) == (generate_key is None):
        raise click.UsageError("give exactly one of --public-key and --generate-key")
    settings = load_settings()
    private_pem: bytes | None = None
    if generate_key is not None:
        if generate_key.exists():
            raise click.ClickException(f"{generate_key} exists already: not overwriting it")
        private = ec.generate_private_key(ec.SECP256R1())
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        assert public_key is not None
        pem = public_key.read_bytes()

    async def run(nodes: NodeRegistry) -> ServiceClient:
        await require_migrated(nodes, levels=True)
        jwk = public_jwk_from_pem(pem)
        code = await _known_division(nodes, division, field="division")
        async with nodes.identity.sessions.begin() as session:
            client = await add_client(
                session=session,
                now=now_of(settings),
                client_id=client_id.strip(),
                name=name.strip(),
                division_code=code,
                scopes=scopes or [s.value for s in Scope],
                public_jwk=jwk,
            )
            await session.flush()
            if generate_key is not None and private_pem is not None:
                # written before the commit: a key file that cannot be written
                # leaves no client behind
                _write_private_key(generate_key, private_pem)
        return client

    try:
        client = run_on(settings, run)
    except BaseException:
        # the commit failed after the key was written: no client holds it
        written = generate_key is not None and generate_key.exists()
        if written and generate_key is not None and generate_key.read_bytes() == private_pem:
            generate_key.unlink()
        raise
    click.echo(f"client added: {client.client_id} ({client.name}, {client.division_code})")
    click.echo(f"  algorithm: {client_algorithm(client.public_jwk)}")
    click.echo(f"  scopes: {' '.join(client.scopes)}")
    click.echo(f"  token endpoint: {settings.token_endpoint}")
    if generate_key is not None:
        click.echo(f"  private key: {generate_key} (mode 0600; give it to the client only)")


@main.group("keys")
def keys_group() -> None:
    """Token signing keys: rotate them, list them."""


@reads(STORES, SECRET, CLOCK, "GOVHUB_KEY_OVERLAP_SECONDS", "GOVHUB_ACCESS_TOKEN_SECONDS")
@keys_group.command("rotate")
@click.option(
    "--overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds the retired key still verifies. Default: GOVHUB_KEY_OVERLAP_SECONDS; "
    "at least the access token lifetime.",
)
def keys_rotate(overlap: int | None) -> None:
    """Retire the signing key (it keeps verifying for the overlap) and start a new one."""
    settings = load_settings()
    seconds = settings.key_overlap_seconds if overlap is None else overlap
    if seconds < settings.access_token_seconds:
        raise click.ClickException(
            f"an overlap of {seconds}s is shorter than the access token lifetime "
            f"({settings.access_token_seconds}s): tokens signed just before the rotation "
            "would stop verifying"
        )
    secret = secret_of(settings)
    now = now_of(settings)

    async def run(nodes: NodeRegistry) -> tuple[str, list[str]]:
        await require_migrated(nodes)
        async with nodes.identity.sessions.begin() as session:
            retiring = [k.kid for k in await list_signing_keys(session=session) if not k.retired_at]
            kid = await rotate_keys(
                session=session, secret=secret, now=now, overlap=dt.timedelta(seconds=seconds)
            )
        return kid, retiring

    kid, retiring = run_on(settings, run)
    click.echo(f"new signing key: {kid} ({ALGORITHM})")
    until = stamp(now + dt.timedelta(seconds=seconds))
    for old in retiring:
        click.echo(f"retired {old}: still verifies until {until}")


@reads(STORES, CLOCK)
@keys_group.command("list")
def keys_list() -> None:
    """List the signing keys: which one signs, until when retired ones verify."""
    settings = load_settings()
    now = now_of(settings)

    async def run(nodes: NodeRegistry) -> list[SigningKey]:
        await require_migrated(nodes)
        async with nodes.identity.sessions() as session:
            return await list_signing_keys(session=session)

    rows = run_on(settings, run)
    if not rows:
        click.echo("no signing keys: run 'govhub init'")
        return
    current = [k.kid for k in rows if k.retired_at is None]
    signing = current[-1] if current else None  # the newest unretired key signs
    click.echo("kid\talg\tcreated\tretired\tverify_until\tstatus")
    for k in rows:
        if k.kid == signing:
            status = "signing"
        elif k.retired_at is None:
            status = "unused"
        elif k.verify_until is None or k.verify_until > now:
            status = "verifies"
        else:
            status = "expired"
        cells = [k.kid, k.alg, stamp(k.created_at), stamp(k.retired_at), stamp(k.verify_until)]
        click.echo("\t".join([*cells, status]))
