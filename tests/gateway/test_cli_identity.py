"""The identity commands of ``govhub``: ``user add|list``, ``client add``, ``keys
rotate|list`` and the signing key ``init`` makes, checked the way an operator would:
the account signs in, the client gets a token, a token signed before a rotation still
verifies.

Each test works on SQLite stores of its own under ``tmp_path`` (a copy of stores that
``govhub init`` and ``govhub demo`` made once for this module), whatever the backend:
the commands read their settings from the environment, as they do for an operator.
The tests are plain functions because the commands run ``asyncio.run`` themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import shutil
import stat
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import jwt
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr
from sqlalchemy import func, select
from stdnum.cn import ric

from auth.accounts import account_by_username, public_jwk_from_pem
from auth.clients import ASSERTION_TYPE, client_credentials
from auth.enums import AccountKind, Channel, RepresentativeRole, Role, Scope
from auth.identity import Identity
from auth.keys import KeyRing
from auth.models import Account, Representation, ServiceClient, SigningKey
from auth.sessions import login
from auth.viewer import Viewer
from gateway.cli import main
from gateway.demo.accounts import DEMO_PASSWORD
from gateway.demo.plan import org_code_for
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import CHINA, FixedClock
from levels.common.codes import make_uscc, parse_division
from levels.common.enums import Level
from tests.conftest import DEMO_NOW

T = TypeVar("T")

SECRET = "cli-identity-test-secret"
PASSWORD = "correct-horse-battery"
YUCI = "140702000000"  # 榆次区, a county of the demo city
TAIGU = "140703000000"  # 太谷区, another county
XIUWEN_VILLAGE = "140702101201"  # 修文村
YUCI_ORG = org_code_for(parse_division(YUCI))
STORES = ("city", "county", "town", "village", "identity")


def resident_id(stem17: str = "14070220010307123") -> str:
    # born in 榆次区 (its region code 140702 dates from 1999)
    return stem17 + ric.calc_check_digit(stem17 + "0")


def env_for(var: Path, **extra: str | None) -> dict[str, str | None]:
    """The environment of one ``govhub`` run: these stores, this secret and clock;
    nothing of the surrounding environment (another backend, Redis) leaks in."""
    env: dict[str, str | None] = {
        "GOVHUB_MODE": "dev",
        "GOVHUB_VAR_DIR": str(var),
        "GOVHUB_SECRET_KEY": SECRET,
        "GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(),
        "GOVHUB_NEW_PASSWORD": PASSWORD,
        "GOVHUB_REDIS_URL": None,
        "REDIS_URL": None,
        "GOVHUB_PUBLIC_URL": None,
        "GOVHUB_ACCESS_TOKEN_SECONDS": None,
        "GOVHUB_KEY_OVERLAP_SECONDS": None,
        **{f"GOVHUB_{store.upper()}_DB_URL": None for store in STORES},
    }
    env.update(extra)
    return env


def settings_for(var: Path) -> Settings:
    return Settings(
        var_dir=var,
        secret_key=SecretStr(SECRET),
        clock_override=DEMO_NOW,
        redis_url=None,
        public_url=None,
        access_token_seconds=600,
        **{f"{store}_db_url": None for store in STORES},
    )


def govhub(var: Path, command: str, *args: str, **extra: str | None) -> Result:
    """``govhub <command> <args>`` on these stores (the command split like a shell)."""
    return CliRunner().invoke(main, [*shlex.split(command), *args], env=env_for(var, **extra))


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, *needles: str) -> str:
    """A clear refusal: exit code 1 and a message, not a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output
    return result.output


def with_stores(var: Path, fn: Callable[[NodeRegistry], Awaitable[T]]) -> T:
    async def run() -> T:
        nodes = NodeRegistry.from_settings(settings_for(var))
        try:
            return await fn(nodes)
        finally:
            await nodes.dispose()

    return asyncio.run(run())


def with_identity(
    var: Path, fn: Callable[[Identity], Awaitable[T]], *, now: dt.datetime = DEMO_NOW
) -> T:
    """``fn`` against a fresh identity layer (key ring, throttle) of these stores, as a
    hub process started now would have it."""

    async def run(nodes: NodeRegistry) -> T:
        identity = Identity(settings_for(var), nodes.identity, FixedClock(now))
        try:
            return await fn(identity)
        finally:
            await identity.close()

    return with_stores(var, run)


def account(var: Path, username: str) -> Account | None:
    async def run(nodes: NodeRegistry) -> Account | None:
        async with nodes.identity.sessions() as session:
            return await account_by_username(username, session=session)

    return with_stores(var, run)


def count(var: Path, model: type[Any]) -> int:
    async def run(nodes: NodeRegistry) -> int:
        async with nodes.identity.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return with_stores(var, run)


def sign_in(var: Path, username: str, password: str = PASSWORD) -> tuple[Viewer, str]:
    """Sign in on the web; the viewer the access token carries, and the token."""

    async def run(identity: Identity) -> tuple[Viewer, str]:
        signed = await login(
            identity, username=username, password=password, channel=Channel.WEB, ip="10.9.9.9"
        )
        viewer = await identity.authenticate(signed.access.token)
        assert viewer == signed.viewer
        return viewer, signed.access.token

    return with_identity(var, run)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stores made by ``govhub init`` and ``govhub demo``, once for the module."""
    var = tmp_path_factory.mktemp("cli-identity") / "var"
    ok(govhub(var, "init"))
    ok(govhub(var, "demo"))
    return var


@pytest.fixture
def var(template: Path, tmp_path: Path) -> Path:
    """A copy of the template stores of this test's own."""
    var = tmp_path / "var"
    shutil.copytree(template, var)
    return var


# --- user add ----------------------------------------------------------------------

KINDS: dict[str, tuple[list[str], AccountKind, frozenset[Role], str | None]] = {
    "person": (
        ["--kind", "PERSON", "--id-number", resident_id()],
        AccountKind.PERSON,
        frozenset(),
        None,
    ),
    "enterprise": (
        ["--kind", "ENTERPRISE", "--credit-code", make_uscc("91140702MA0900001")],
        AccountKind.ENTERPRISE,
        frozenset(),
        None,
    ),
    "staff": (
        [
            *("--kind", "STAFF", "--org", YUCI_ORG, "--department", f"{YUCI}D01"),
            *("--role", "RECEPTIONIST", "--role", "REVIEWER"),
        ],
        AccountKind.STAFF,
        frozenset({Role.RECEPTIONIST, Role.REVIEWER}),
        YUCI,
    ),
    "agent": (
        ["--kind", "AGENT", "--division", XIUWEN_VILLAGE],
        AccountKind.AGENT,
        frozenset(),
        XIUWEN_VILLAGE,
    ),
    "auditor": (
        ["--kind", "AUDITOR", "--division", TAIGU],
        AccountKind.AUDITOR,
        frozenset(),
        TAIGU,
    ),
}


@pytest.mark.parametrize("case", list(KINDS))
def test_user_add_of_each_kind_then_signs_in(var: Path, case: str) -> None:
    args, kind, roles, jurisdiction = KINDS[case]
    username = f"new.{case}"
    out = ok(govhub(var, "user", "add", "--username", username, "--name", "新用户", *args))
    assert out.startswith(f"account added: {username} ({kind.value}, id ")
    assert PASSWORD not in out

    viewer, _ = sign_in(var, username)
    assert viewer.kind is kind
    assert viewer.roles == roles
    assert viewer.jurisdiction == jurisdiction
    if kind is AccountKind.STAFF:
        assert (viewer.org_code, viewer.org_level) == (YUCI_ORG, Level.COUNTY)
        assert viewer.department_id == f"{YUCI}D01"

    listed = ok(govhub(var, "user", "list", "--kind", kind.value)).splitlines()
    (line,) = [row for row in listed if row.startswith(f"{username}\t")]
    cells = line.split("\t")
    assert cells[:4] == [username, kind.value, "新用户", jurisdiction or "-"]
    assert cells[4] == (",".join(sorted(r.value for r in roles)) or "-")


def test_user_add_asks_for_the_password_when_not_given(var: Path) -> None:
    result = CliRunner().invoke(
        main,
        shlex.split(
            f"user add --username asked.auditor --kind AUDITOR --name 审计 --division {YUCI}"
        ),
        env=env_for(var, GOVHUB_NEW_PASSWORD=None),
        input="typed-at-the-prompt\ntyped-at-the-prompt\n",
    )
    out = ok(result)
    assert "typed-at-the-prompt" not in out  # hidden input
    assert sign_in(var, "asked.auditor", "typed-at-the-prompt")[0].kind is AccountKind.AUDITOR


def test_a_person_with_a_bad_id_checksum_is_refused(var: Path) -> None:
    good = resident_id()
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    before = count(var, Account)
    result = govhub(var, "user add --username bad.id --kind PERSON --name 某人 --id-number", bad)
    out = refused(result, "INVALID_ID_NUMBER")
    assert bad not in out
    assert account(var, "bad.id") is None
    assert count(var, Account) == before


def test_a_person_id_number_is_never_stored_or_shown_in_clear(var: Path) -> None:
    number = resident_id("14070220051224002")
    out = ok(govhub(var, "user add --username li.si --kind PERSON --name 李四 --id-number", number))
    masked = f"{number[:4]}{'*' * 10}{number[-4:]}"
    assert number not in out and masked in out

    row = account(var, "li.si")
    assert row is not None
    assert row.id_number_masked == masked
    assert row.id_number_hash and number not in row.id_number_hash
    stored = [str(getattr(row, c.key)) for c in Account.__table__.columns]
    assert not any(number in value for value in stored)
    for path in var.glob("identity.sqlite3*"):  # the file itself, WAL included
        assert number.encode() not in path.read_bytes()

    listed = ok(govhub(var, "user", "list", "--kind", "PERSON"))
    assert masked in listed and number not in listed
    # the same person cannot open a second account
    again = govhub(var, "user add --username li.si.2 --kind PERSON --name 李四 --id-number", number)
    refused(again, "ACCOUNT_EXISTS")


def test_staff_of_an_unknown_org_is_refused(var: Path) -> None:
    unknown = make_uscc("12140702MB0099999")  # well formed, no such service org
    before = count(var, Account)
    result = govhub(
        var, f"user add --username ghost.clerk --kind STAFF --name 某 --org {unknown} --role ADMIN"
    )
    refused(result, "ORG_NOT_FOUND", unknown)
    assert account(var, "ghost.clerk") is None
    assert count(var, Account) == before


def test_staff_with_a_department_of_another_org_is_refused(var: Path) -> None:
    before = count(var, Account)
    result = govhub(
        var,
        f"user add --username mixed.clerk --kind STAFF --name 某 --org {YUCI_ORG} "
        f"--department {TAIGU}D01 --role REVIEWER",
    )
    refused(result, f"{TAIGU}D01", YUCI_ORG)
    assert account(var, "mixed.clerk") is None
    assert count(var, Account) == before


def test_a_taken_username_is_refused(var: Path) -> None:
    add = "user add --username twice.auditor --kind AUDITOR"
    ok(govhub(var, f"{add} --name 第一 --division {YUCI}"))
    refused(govhub(var, f"{add} --name 第二 --division {TAIGU}"), "USERNAME_TAKEN")
    first = account(var, "twice.auditor")
    assert first is not None and (first.display_name, first.division_code) == ("第一", YUCI)


def test_options_that_do_not_fit_the_kind_are_refused(var: Path) -> None:
    add = "user add --username odd.one --name 某"
    wrong = govhub(var, f"{add} --kind AUDITOR --division {YUCI} --role ADMIN")
    assert wrong.exit_code == 2 and "--role does not apply to AUDITOR" in wrong.output
    missing = govhub(var, f"{add} --kind PERSON")
    assert missing.exit_code == 2 and "--id-number is required" in missing.output
    refused(govhub(var, f"{add} --kind AGENT --division {YUCI}"), "LEVEL_MISMATCH")
    weak = govhub(var, f"{add} --kind AUDITOR --division {YUCI}", GOVHUB_NEW_PASSWORD="short")
    refused(weak, "WEAK_PASSWORD")
    assert account(var, "odd.one") is None


# --- client add --------------------------------------------------------------------


def test_client_add_generates_a_private_key_the_client_can_sign_with(
    var: Path, tmp_path: Path
) -> None:
    key_path = tmp_path / "yuci-ems.pem"
    out = ok(
        govhub(
            var,
            f"client add --id yuci-ems --name 榆次区邮政系统 --division {YUCI} "
            f"--generate-key {key_path}",
        )
    )
    assert "yuci-ems" in out and "ES256" in out
    assert "http://127.0.0.1:8000/oauth/token" in out
    assert " ".join(sorted(s.value for s in Scope)) in out

    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    pem = key_path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)

    async def registered(nodes: NodeRegistry) -> ServiceClient | None:
        async with nodes.identity.sessions() as session:
            return await session.get(ServiceClient, "yuci-ems")

    client = with_stores(var, registered)
    assert client is not None and client.division_code == YUCI
    expected = public_jwk_from_pem(pem)
    assert client.public_jwk == {k: expected[k] for k in ("kty", "crv", "x", "y")}

    # the client signs an assertion with that file and gets a token of its own
    async def token(identity: Identity) -> Viewer:
        now = int(DEMO_NOW.timestamp())
        claims = {
            "iss": "yuci-ems",
            "sub": "yuci-ems",
            "aud": identity.settings.token_endpoint,
            "exp": now + 120,
            "iat": now,
            "jti": uuid.uuid4().hex,
        }
        assertion = jwt.encode(claims, private, algorithm="ES256")
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        answer = await client_credentials(identity, form)
        return await identity.authenticate(answer["access_token"])

    viewer = with_identity(var, token)
    assert (viewer.kind, viewer.subject, viewer.jurisdiction) == (
        AccountKind.SERVICE,
        "yuci-ems",
        YUCI,
    )

    # never over an existing key file
    again = govhub(
        var, f"client add --id yuci-ems-2 --name 另一个 --division {YUCI} --generate-key {key_path}"
    )
    refused(again, "exists already")
    assert key_path.read_bytes() == pem


def test_client_add_with_a_public_key_file(var: Path, tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_path = tmp_path / "taigu.pub"
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    out = ok(
        govhub(
            var,
            f"client add --id taigu-cases --name 太谷区办件系统 --division {TAIGU} "
            f"--public-key {public_path} --scope cases:read",
        )
    )
    assert "ES256" in out and "cases:read" in out and "catalogue:read" not in out
    assert count(var, ServiceClient) == 3  # the demo's two and this one


def test_client_add_refuses_an_rsa_key(var: Path, tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "rsa.pub"
    path.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    before = count(var, ServiceClient)
    add = f"client add --id rsa-system --name RSA --division {YUCI} --public-key {path}"
    result = govhub(var, add)
    refused(result, "INVALID_CLIENT_KEY")
    assert count(var, ServiceClient) == before

    both = govhub(var, f"{add} --generate-key {tmp_path / 'new.pem'}")
    assert both.exit_code == 2 and "exactly one" in both.output
    assert not (tmp_path / "new.pem").exists()


# --- keys --------------------------------------------------------------------------


def key_rows(var: Path) -> list[dict[str, str]]:
    lines = ok(govhub(var, "keys", "list")).splitlines()
    header = lines[0].split("\t")
    assert header == ["kid", "alg", "created", "retired", "verify_until", "status"]
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def test_keys_rotate_keeps_tokens_signed_before_it_valid(var: Path) -> None:
    (first,) = key_rows(var)
    assert first["status"] == "signing" and first["alg"] == "EdDSA"
    viewer, token = sign_in(var, "yuci.reviewer", DEMO_PASSWORD)
    old_kid = jwt.get_unverified_header(token)["kid"]
    assert old_kid == first["kid"]

    out = ok(govhub(var, "keys", "rotate", "--overlap", "1800"))
    until = (DEMO_NOW + dt.timedelta(seconds=1800)).isoformat()
    assert f"retired {old_kid}: still verifies until {until}" in out

    rows = {row["kid"]: row for row in key_rows(var)}
    assert len(rows) == 2
    old = rows.pop(old_kid)
    assert (old["retired"], old["verify_until"], old["status"]) == (
        DEMO_NOW.isoformat(),
        until,
        "verifies",
    )
    ((new_kid, new),) = rows.items()
    assert new["status"] == "signing" and new["retired"] == "-"
    assert f"new signing key: {new_kid}" in out

    async def after_rotation(identity: Identity) -> tuple[bool, set[str], Viewer, str]:
        ring = KeyRing(identity.store, secret=identity.secret, clock=identity.clock)
        verifies = await ring.public_key(old_kid) is not None
        kids = {key["kid"] for key in (await ring.jwks())["keys"]}
        fresh = await identity.issue(viewer)
        return verifies, kids, await identity.authenticate(token), fresh.token

    verifies, kids, still, fresh_token = with_identity(var, after_rotation)
    assert verifies and kids == {old_kid, new_kid}
    assert still.subject == viewer.subject
    assert jwt.get_unverified_header(fresh_token)["kid"] == new_kid

    # once the overlap is over, the old key is gone from the JWKS
    async def later(identity: Identity) -> tuple[bool, set[str]]:
        ring = KeyRing(identity.store, secret=identity.secret, clock=identity.clock)
        return await ring.public_key(old_kid) is None, {
            key["kid"] for key in (await ring.jwks())["keys"]
        }

    gone, kids_later = with_identity(var, later, now=DEMO_NOW + dt.timedelta(seconds=1801))
    assert gone and kids_later == {new_kid}


def test_keys_rotate_refuses_an_overlap_shorter_than_a_token_lives(var: Path) -> None:
    before = key_rows(var)
    refused(govhub(var, "keys", "rotate", "--overlap", "599"), "600s")
    assert key_rows(var) == before
    assert count(var, SigningKey) == 1


def test_init_makes_one_signing_key_and_commands_before_it_say_so(tmp_path: Path) -> None:
    var = tmp_path / "var"
    for command in (["user", "list"], ["keys", "list"], ["keys", "rotate"]):
        refused(govhub(var, *command), "govhub init")
    ok(govhub(var, "init"))
    ok(govhub(var, "init"))  # again: still one key
    (key,) = key_rows(var)
    assert key["status"] == "signing" and key["created"] == DEMO_NOW.isoformat()
    assert ok(govhub(var, "user", "list")).strip() == "no accounts"
    # the level stores hold no org yet: staff cannot be added, and nothing breaks
    result = govhub(
        var, f"user add --username early.clerk --kind STAFF --name 某 --org {YUCI_ORG} --role ADMIN"
    )
    refused(result, "ORG_NOT_FOUND")


# --- user represent -----------------------------------------------------------------


def test_a_person_is_made_an_enterprises_agent_until_a_day(var: Path) -> None:
    before = count(var, Representation)
    out = ok(
        govhub(
            var,
            "user represent --person resident1 --enterprise firm1 --role AUTHORIZED_AGENT",
            "--until",
            "2026-12-31",
        )
    )
    assert "resident1" in out and "firm1" in out and "until 2026-12-31" in out
    assert count(var, Representation) == before + 1
    person, firm = account(var, "resident1"), account(var, "firm1")
    assert person is not None and firm is not None

    async def stored(nodes: NodeRegistry) -> Representation | None:
        async with nodes.identity.sessions() as session:
            return await session.get(Representation, (firm.id, person.id))

    row = with_stores(var, stored)
    assert row is not None and row.role is RepresentativeRole.AUTHORIZED_AGENT
    # the whole last day counts, in China time
    assert row.valid_until == dt.datetime(2027, 1, 1, tzinfo=CHINA)
    again = govhub(var, "user represent --person resident1 --enterprise firm1")
    assert again.exit_code != 0 and "already represents" in again.output


def test_only_a_person_represents_only_an_enterprise(var: Path) -> None:
    before = count(var, Representation)
    for args in (
        "--person firm1 --enterprise firm2",  # an enterprise is no person
        "--person resident1 --enterprise resident2",
        "--person nobody --enterprise firm1",
    ):
        result = govhub(var, f"user represent {args}")
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "no PERSON account" in result.output or "no ENTERPRISE account" in result.output
    assert count(var, Representation) == before
