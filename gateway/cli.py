"""The ``govhub`` command: init, demo, serve, export-schema, and the identity
commands ``user add|list``, ``client add`` and ``keys rotate|list``; ``relay`` carries
cross-level messages (``relay retry`` sends a FAILED one again)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

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
from auth.keys import ALGORITHM, ensure_signing_key, list_signing_keys, rotate_keys
from auth.models import Account, Representation, ServiceClient, SigningKey
from auth.representation import add_representation
from gateway.nodes import NodeRegistry, Store
from gateway.settings import Settings
from levels.common import migrate
from levels.common.clock import CHINA, clock_for
from levels.common.codes import level_of_division, parse_division, validate_uscc
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode, message_for
from levels.common.models import ServiceOrg
from levels.common.service import departments_by_id, divisions_by_code, orgs_by_code
from levels.supervision.combine import Report

T = TypeVar("T")


async def _init(nodes: NodeRegistry) -> None:
    for node in nodes:
        await migrate.upgrade(node.engine, "levels")
    await migrate.upgrade(nodes.identity.engine, "identity")


async def _with_nodes(settings: Settings, fn: Callable[[NodeRegistry], Awaitable[T]]) -> T:
    nodes = NodeRegistry.from_settings(settings)
    try:
        return await fn(nodes)
    finally:
        await nodes.dispose()


def _now(settings: Settings) -> dt.datetime:
    return clock_for(settings.clock_override).now()


def _secret(settings: Settings) -> bytes:
    try:
        return settings.identity_secret()
    except RuntimeError as e:  # prod without GOVHUB_SECRET_KEY
        raise click.ClickException(str(e)) from None


def _run(settings: Settings, fn: Callable[[NodeRegistry], Awaitable[T]]) -> T:
    """Run ``fn`` against the stores; a domain error becomes a one-line message and
    exit code 1 (its transaction is rolled back: nothing is written)."""
    try:
        return asyncio.run(_with_nodes(settings, fn))
    except DomainError as e:
        detail = f" ({e.detail})" if e.detail else ""
        raise click.ClickException(f"{e.code.value}: {message_for(e.code, 'en')}{detail}") from None


async def _require_migrated(nodes: NodeRegistry, *, levels: bool = False) -> None:
    """Refuse to work on stores ``govhub init`` has not brought to this hub's schema."""
    stores: list[tuple[Store, migrate.Chain]] = [(nodes.identity, "identity")]
    if levels:
        stores += [(node, "levels") for node in nodes]
    for store, chain in stores:
        if not await migrate.is_current(store.engine, chain):
            raise click.ClickException(
                f"the {store.name} store is not at this hub's schema: run 'govhub init' first"
            )


def _stamp(t: dt.datetime | None) -> str:
    return t.astimezone(CHINA).isoformat(timespec="seconds") if t is not None else "-"


@click.group()
def main() -> None:
    """GovHub: the GraphQL hub of a four-level government-service network."""


@main.command()
def init() -> None:
    """Create or upgrade the schema of every store (Alembic); make sure a token
    signing key exists."""

    async def run(nodes: NodeRegistry) -> str:
        await _init(nodes)
        async with nodes.identity.sessions.begin() as session:
            await ensure_signing_key(session=session, secret=secret, now=_now(settings))
            await session.flush()
            signing = [k.kid for k in await list_signing_keys(session=session) if not k.retired_at]
        return signing[-1]

    settings = Settings()
    secret = _secret(settings)
    kid = asyncio.run(_with_nodes(settings, run))
    click.echo("stores migrated: city, county, town, village, identity")
    click.echo(f"signing key: {kid}")


@main.command()
@click.option(
    "--if-empty/--always",
    default=True,
    show_default=True,
    help="Load only when the stores hold no demo city yet.",
)
def demo(if_empty: bool) -> None:
    """Load the demo city (Jinzhong 晋中市) into the stores."""
    from gateway.demo import is_loaded, load_demo

    async def run(nodes: NodeRegistry) -> dict[str, int] | None:
        await _init(nodes)
        if await is_loaded(nodes):
            if if_empty:
                return None
            raise click.ClickException("the demo city is loaded already; use fresh stores")
        return await load_demo(nodes, secret=settings.identity_secret())

    settings = Settings()
    started = time.perf_counter()
    counts = asyncio.run(_with_nodes(settings, run))
    if counts is None:
        click.echo("demo city already loaded")
        return
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    click.echo(f"demo city loaded in {time.perf_counter() - started:.1f}s: {summary}")


@main.command()
@click.option("--host", default=None, help="Default: GOVHUB_HOST or 127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: GOVHUB_PORT or 8000")
def serve(host: str | None, port: int | None) -> None:
    """Serve the hub (uvicorn)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.observability import configure_logging

    settings = Settings()
    # one JSON object per line in prod (GOVHUB_LOG_FORMAT), uvicorn's lines included
    configure_logging(settings)
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": "info",
        "log_config": None,
    }
    if settings.workers > 1:
        # each worker process builds its own app (engines, pools) from the environment
        uvicorn.run("gateway.app:create_app", factory=True, workers=settings.workers, **options)
        return
    # the app's lifespan freezes what start-up built (gateway.app.settle_heap)
    uvicorn.run(create_app(settings), **options)


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (committed as schema.graphql)."""
    from schema import export_sdl

    sys.stdout.write(export_sdl())


# --- identity: accounts, machine clients, signing keys ---------------------------------

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
    async with nodes[division.level].sessions() as session:
        if not await divisions_by_code([division.code], session=session):
            raise DomainError(ErrorCode.DIVISION_NOT_FOUND, field=[field], detail=division.code)
    return division.code


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
    settings = Settings()
    secret = _secret(settings)

    async def run(nodes: NodeRegistry) -> tuple[Account, str]:
        await _require_migrated(nodes, levels=True)
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
            account = await add_account(draft, session=session, secret=secret, now=_now(settings))
        return account, detail

    account, detail = _run(settings, run)
    if account.id_number_masked:
        detail += f", ID number {account.id_number_masked}"
    if account.credit_code:
        detail += f", credit code {account.credit_code}"
    if account.division_code:
        detail += f", jurisdiction {account.division_code}"
    if account.roles:
        detail += f", roles {' '.join(account.roles)}"
    click.echo(f"account added: {account.username} ({account.kind.value}, id {account.id}){detail}")


@user_group.command("list")
@click.option("--kind", type=click.Choice(_HUMAN_KINDS))
def user_list(kind: str | None) -> None:
    """List accounts, by username: kind, name, jurisdiction, roles, masked ID."""
    settings = Settings()

    async def run(nodes: NodeRegistry) -> list[Account]:
        await _require_migrated(nodes)
        async with nodes.identity.sessions() as session:
            return await list_accounts(session=session, kind=AccountKind(kind) if kind else None)

    accounts = _run(settings, run)
    if not accounts:
        click.echo("no accounts")
        return
    click.echo("username\tkind\tname\tjurisdiction\troles\tid")
    for a in accounts:
        shown_id = a.id_number_masked or a.credit_code
        cells = [a.username, a.kind.value, a.display_name, a.division_code]
        cells += [",".join(a.roles), shown_id]
        click.echo("\t".join(c or "-" for c in cells))


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
    settings = Settings()

    async def run(nodes: NodeRegistry) -> tuple[Account, Account]:
        await _require_migrated(nodes)
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
                now=_now(settings),
                valid_until=ends,
            )
        return who, firm

    who, firm = _run(settings, run)
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
    settings = Settings()
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
        await _require_migrated(nodes, levels=True)
        jwk = public_jwk_from_pem(pem)
        code = await _known_division(nodes, division, field="division")
        async with nodes.identity.sessions.begin() as session:
            client = await add_client(
                session=session,
                now=_now(settings),
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
        client = _run(settings, run)
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
    settings = Settings()
    seconds = settings.key_overlap_seconds if overlap is None else overlap
    if seconds < settings.access_token_seconds:
        raise click.ClickException(
            f"an overlap of {seconds}s is shorter than the access token lifetime "
            f"({settings.access_token_seconds}s): tokens signed just before the rotation "
            "would stop verifying"
        )
    secret = _secret(settings)
    now = _now(settings)

    async def run(nodes: NodeRegistry) -> tuple[str, list[str]]:
        await _require_migrated(nodes)
        async with nodes.identity.sessions.begin() as session:
            retiring = [k.kid for k in await list_signing_keys(session=session) if not k.retired_at]
            kid = await rotate_keys(
                session=session, secret=secret, now=now, overlap=dt.timedelta(seconds=seconds)
            )
        return kid, retiring

    kid, retiring = _run(settings, run)
    click.echo(f"new signing key: {kid} ({ALGORITHM})")
    until = _stamp(now + dt.timedelta(seconds=seconds))
    for old in retiring:
        click.echo(f"retired {old}: still verifies until {until}")


@keys_group.command("list")
def keys_list() -> None:
    """List the signing keys: which one signs, until when retired ones verify."""
    settings = Settings()
    now = _now(settings)

    async def run(nodes: NodeRegistry) -> list[SigningKey]:
        await _require_migrated(nodes)
        async with nodes.identity.sessions() as session:
            return await list_signing_keys(session=session)

    rows = _run(settings, run)
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
        cells = [k.kid, k.alg, _stamp(k.created_at), _stamp(k.retired_at), _stamp(k.verify_until)]
        click.echo("\t".join([*cells, status]))


# --- audit: the hash chain of every level store ------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The audit trail: check each level store's hash chain and signed head."""


@audit_group.command("verify")
@click.option(
    "--level",
    "level_name",
    type=click.Choice(["CITY", "COUNTY", "TOWN", "VILLAGE"], case_sensitive=False),
    help="Verify this level's store only. Default: all four.",
)
def audit_verify(level_name: str | None) -> None:
    """Recompute every level store's audit chain, check its head and the head's
    signature; exit 1 when a chain is not intact."""
    from auth.keys import KeyRing
    from levels.audit.chain import ChainReport, verify_chain
    from levels.common.enums import LEVELS

    settings = Settings()
    secret = _secret(settings)
    levels = [Level(level_name.upper())] if level_name else list(LEVELS)

    async def run(nodes: NodeRegistry) -> list[tuple[Level, ChainReport]]:
        await _require_migrated(nodes, levels=True)
        ring = KeyRing(nodes.identity, secret=secret, clock=clock_for(settings.clock_override))
        reports = []
        for level in levels:
            async with nodes[level].sessions() as session:
                report = await verify_chain(
                    session=session, level=level.value, public_key_for=ring.public_key
                )
            reports.append((level, report))
        return reports

    broken = False
    for level, report in _run(settings, run):
        if report.valid:
            signed = f"head signed by {report.head_kid}" if report.head_signed else "head unsigned"
            click.echo(f"{level.value}: {report.events} events, chain valid, {signed}")
        else:
            broken = True
            click.echo(f"{level.value}: {report.problem} at event {report.first_bad_seq}")
    if broken:
        sys.exit(1)


# --- calendar: the working-day schedule every level store counts time limits with ---------


@main.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: import a year's holiday schedule, show a year."""


@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(file: Path) -> None:
    """Import a year's schedule from the State Council's notice (国务院办公厅关于部分节假日
    安排的通知) into every level store, so every node counts the same due dates. FILE
    lists the holidays and the make-up working days (调休上班):

    \b
    {"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
     "days": [{"date": "2027-01-01", "workingDay": false, "name": "元旦"}, ...]}

    Importing a year again replaces its schedule.
    """
    from levels.calendar.workdays import import_year, parse_calendar_file

    try:
        year, source, days = parse_calendar_file(file.read_text(encoding="utf-8-sig"))
    except (ValueError, OSError) as e:  # UnicodeDecodeError is a ValueError
        raise click.ClickException(f"{file}: {e}") from None
    settings = Settings()
    now = _now(settings)

    async def run(nodes: NodeRegistry) -> list[str]:
        await _require_migrated(nodes, levels=True)
        done: list[str] = []
        for node in nodes:  # one transaction per store
            try:
                async with node.sessions.begin() as session:
                    await import_year(session=session, year=year, days=days, source=source, now=now)
            except Exception as e:
                if not done:
                    raise
                raise click.ClickException(
                    f"{year} was imported into {', '.join(done)} but not into {node.name} "
                    f"({type(e).__name__}: {e}); run the import again"
                ) from e
            done.append(node.name)
        return done

    stores = _run(settings, run)
    holidays = sum(1 for _day, working, _name in days if not working)
    click.echo(
        f"calendar {year} imported into {', '.join(stores)}: {holidays} days off, "
        f"{len(days) - holidays} make-up working days"
    )
    click.echo(f"  source: {source}")


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2999))
def calendar_show(year: int) -> None:
    """Print the holidays and make-up working days of YEAR that the level stores count
    with: an imported schedule, else chinesecalendar's, else a provisional Monday to
    Friday."""
    from levels.calendar.workdays import WEEKDAYS, YearSchedule, load_calendar, package_years

    settings = Settings()

    async def run(nodes: NodeRegistry) -> list[tuple[str, YearSchedule]]:
        await _require_migrated(nodes, levels=True)
        schedules = []
        for node in nodes:
            async with node.sessions() as session:
                calendar = await load_calendar(session=session)
            schedules.append((node.name, calendar.schedule(year)))
        return schedules

    groups: dict[YearSchedule, list[str]] = {}
    for name, schedule in _run(settings, run):
        groups.setdefault(schedule, []).append(name)
    if len(groups) > 1:
        click.echo(
            f"warning: the level stores count {year} differently; "
            "import its schedule again with 'govhub calendar import'",
            err=True,
        )
    for schedule, names in groups.items():
        if len(groups) > 1:
            click.echo(f"[{', '.join(names)}]")
        if schedule.basis == "provisional":
            first, last = package_years()
            click.echo(
                f"{year}: provisional: Mon–Fri (no schedule imported; "
                f"chinesecalendar knows {first}–{last})"
            )
        elif schedule.basis == "imported":
            click.echo(f"{year}: imported: {schedule.source}")
        else:
            click.echo(f"{year}: {schedule.source}")
        for day in schedule.days:
            kind = "working day" if day.is_working_day else "holiday"
            cells = [day.day.isoformat(), WEEKDAYS[day.day.weekday()], f"{kind:<11}", day.name]
            click.echo("  ".join(cells).rstrip())
        if schedule.days:
            off = sum(1 for d in schedule.days if not d.is_working_day)
            click.echo(f"{off} days off, {len(schedule.days) - off} make-up working days")


@main.group("timers")
def timers_group() -> None:
    """Case deadlines (timer rows)."""


@timers_group.command("run")
def timers_run() -> None:
    """Fire every due timer once, in every level store, and sign each store's audit
    head (the gateway also does this every GOVHUB_TIMER_INTERVAL_SECONDS)."""
    from auth.keys import KeyRing
    from gateway.pubsub import broker_for
    from gateway.timers import Pass, fire_all
    from levels.audit.chain import KeyRingSigner
    from levels.common.clock import clock_for

    settings = Settings()
    clock = clock_for(settings.clock_override)

    async def run(nodes: NodeRegistry) -> Pass:
        ring = KeyRing(nodes.identity, secret=settings.identity_secret(), clock=clock)
        # with Redis, the gateways' subscribers hear of the cases a timer moved
        broker = broker_for(settings) if settings.redis_url else None
        try:
            return await fire_all(nodes, clock, KeyRingSigner(ring), broker)
        finally:
            if broker is not None:
                await broker.close()

    fired = asyncio.run(_with_nodes(settings, run))
    click.echo(str(fired))


# --- relay: cross-level messages between the level stores ---------------------------------


@main.group("relay", invoke_without_command=True)
@click.option("--once", is_flag=True, help="One pass over every store, then exit.")
@click.pass_context
def relay_group(ctx: click.Context, once: bool) -> None:
    """Carry cross-level messages from each level store's outbox to their target
    store, every GOVHUB_RELAY_INTERVAL_SECONDS until stopped (the gateway does the same
    in its own process unless that is 0). Several relays may run at once on PostgreSQL."""
    if ctx.invoked_subcommand is not None:
        return
    from gateway.messaging.factory import run_messages
    from gateway.pubsub import broker_for
    from gateway.relay import relay_once, retry_policy, run_forever, stores_behind
    from resolvers.case_events import publish_case_updated

    settings = Settings()
    clock = clock_for(settings.clock_override)
    batch, policy = settings.relay_batch_size, retry_policy(settings)
    timeout = settings.node_timeout_seconds

    async def run(nodes: NodeRegistry) -> object:  # RelayPass, MessagePass or None
        if behind := await stores_behind(nodes):  # a store that is down waits, the rest go
            raise click.ClickException(f"not at this hub's schema: {', '.join(behind)}")
        # with Redis, the gateways' subscribers hear of the cases a message changed
        broker = broker_for(settings) if settings.redis_url else None
        try:
            if settings.message_transport != "direct":
                return await run_messages(settings, nodes, clock, once=once, broker=broker)
            if once:
                done = await relay_once(nodes, clock, batch=batch, policy=policy, timeout=timeout)
                if broker is not None:
                    for number in sorted(done.cases):
                        await publish_case_updated(broker, number)
                return done
            # a standalone relay runs even where the gateway's own is off (interval 0)
            interval = settings.relay_interval_seconds or 1.0
            await run_forever(
                nodes, clock, interval, batch=batch, policy=policy, timeout=timeout, broker=broker
            )
            return None
        finally:
            if broker is not None:
                await broker.close()

    try:
        done = asyncio.run(_with_nodes(settings, run))
    except KeyboardInterrupt:
        return
    if done is not None:
        click.echo(str(done))


@relay_group.command("retry")
@click.argument("message_id")
def relay_retry(message_id: str) -> None:
    """Send a FAILED message again: back to PENDING, its attempts counted afresh
    (audited in its source store as done from this command line)."""
    import getpass

    from gateway.relay import find_message
    from levels.outbox.errors import MessageErrorCode
    from levels.outbox.service import Operator, retry

    settings = Settings()
    now = _now(settings)
    operator = Operator(id=f"cli:{getpass.getuser()}", kind="OPERATOR", channel="SYSTEM")

    async def run(nodes: NodeRegistry) -> str:
        await _require_migrated(nodes, levels=True)
        node = await find_message(nodes, message_id)
        if node is None:
            raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, detail=message_id)
        async with node.sessions.begin() as session:
            message = await retry(session, message_id, now=now, by=operator)
            return f"{message.id}: PENDING again in the {node.name} store ({message.topic})"

    click.echo(_run(settings, run))


# --- e-licences: the offline kit and the issuing orgs' keys ---------------------------------


@main.group("licences")
def licences_group() -> None:
    """E-licences (电子证照): the offline verification kit and the issuing orgs' keys."""


@licences_group.command("kit")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the kit here (default: standard output).",
)
def licences_kit(output: Path | None) -> None:
    """The offline verification kit, as /licences/kit serves it: the licence JWKS and
    every issuer's signed status list (good for GOVHUB_LICENCE_STATUS_TTL_SECONDS)."""
    import orjson

    from gateway.licensing import Licensing

    settings = Settings()

    async def run(nodes: NodeRegistry) -> dict[str, object]:
        await _require_migrated(nodes)
        licensing = Licensing(
            nodes,
            clock_for(settings.clock_override),
            secret=_secret(settings),
            status_ttl_seconds=settings.licence_status_ttl_seconds,
        )
        return await licensing.kit()

    kit = _run(settings, run)
    text = orjson.dumps(kit, option=orjson.OPT_INDENT_2).decode()
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    lists = kit["statusLists"]
    assert isinstance(lists, dict)
    click.echo(f"kit written to {output}: {len(lists)} status lists")


@licences_group.command("rotate-key")
@click.argument("org_code")
def licences_rotate_key(org_code: str) -> None:
    """Retire an issuing org's licence key and start a new one. Licences signed with
    the old key keep verifying (its public key stays in the JWKS); new ones, and the
    org's status list, are signed with the new key."""
    from levels.licences.keys import rotate_org_key
    from levels.licences.models import LicenceKey

    settings = Settings()
    try:
        code = validate_uscc(org_code.strip(), field="org")
    except DomainError as e:
        raise click.ClickException(e.localized("en")) from None
    secret = _secret(settings)
    now = _now(settings)

    async def run(nodes: NodeRegistry) -> tuple[str, list[str]]:
        await _require_migrated(nodes)
        for node in nodes:
            async with node.sessions.begin() as session:
                org = await session.get(ServiceOrg, code)
                if org is None:
                    continue
                retiring = list(
                    await session.scalars(
                        select(LicenceKey.kid).where(
                            LicenceKey.org_code == code, LicenceKey.retired_at.is_(None)
                        )
                    )
                )
                return await rotate_org_key(session, code, secret=secret, now=now), retiring
        raise click.ClickException(f"no service org {code}")

    kid, retiring = _run(settings, run)
    click.echo(f"new licence key of {code}: {kid} (ES256)")
    for old in retiring:
        click.echo(f"retired {old}: licences it signed still verify")


@main.group("report")
def report_group() -> None:
    """Reports of the supervision figures (电子监察)."""


@report_group.command("monthly")
@click.option("--org", "org_code", required=True, help="The service org's credit code.")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where to write the CSV and the PNG (default: here).",
)
def report_monthly(org_code: str, month: str, output_dir: Path) -> None:
    """月报表 of the org's division and everything below it: the month's supervision
    figures per org, per level and in total, as CSV (UTF-8 with BOM) and a PNG chart
    — the same figures as the supervision query."""
    from gateway.report import month_figures, write_monthly
    from levels.cases.service import china_date

    settings = Settings()

    async def run(nodes: NodeRegistry) -> tuple[ServiceOrg, Report, list[str]]:
        await _require_migrated(nodes, levels=True)
        org, report, failures = await month_figures(
            nodes,
            org_code,
            month,
            today=china_date(_now(settings)),
            timeout=settings.node_timeout_seconds,
        )
        return org, report, [f.level.value for f in failures]

    org, report, down = _run(settings, run)
    csv_path, png_path = write_monthly(report, output_dir)
    t = report.totals
    click.echo(
        f"{org.name} {report.division_code} {report.period.start:%Y-%m}: "
        f"{t.counts.received} received, {t.counts.completed} completed, "
        f"{len(report.by_org)} orgs"
    )
    click.echo(f"written: {csv_path}")
    click.echo(f"written: {png_path}")
    if down:
        click.echo(f"partial: no answer from {', '.join(down)}", err=True)
