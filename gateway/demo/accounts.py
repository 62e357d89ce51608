"""The demo city's people and systems, in the identity store: staff of every role at
one service org of each level, an auditor per level, two agents in every village,
residents and enterprises, and two county systems as machine clients.

Every demo account has the password ``DEMO_PASSWORD``, hashed once (argon2) and
shared, so that loading stays fast. Demo only: a real hub creates accounts with
``govhub user add``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric

from auth.accounts import AccountDraft, add_client, new_account, public_jwk_from_pem
from auth.enums import AccountKind, RepresentativeRole, Role, Scope
from auth.models import Account
from auth.passwords import hash_password
from auth.representation import add_representation
from gateway.demo.plan import CREATED_AT, load_divisions, org_code_for
from gateway.nodes import Store
from levels.cases.service import Actor
from levels.common.codes import DivisionCode, make_uscc, parse_division
from levels.common.enums import Level

DEMO_PASSWORD = "govhub-demo-2026"
CLIENT_KEYS = Path(__file__).resolve().parent / "clients"

# one service org per level whose staff, auditor, resident and firm the demo names
ANCHORS: dict[Level, tuple[str, str]] = {
    Level.CITY: ("jz", "140700000000"),  # 晋中市
    Level.COUNTY: ("yuci", "140702000000"),  # 榆次区
    Level.TOWN: ("xiuwen", "140702101000"),  # 修文镇
    Level.VILLAGE: ("xiuwencun", "140702101201"),  # 修文村
}
# a second county, for "not in my jurisdiction"
OTHER_COUNTY = ("taigu", "140703000000")  # 太谷区
# departments of the county centre with staff of their own (the anchor staff are of
# D01, 行政审批服务管理局): cases pushed from the comprehensive window (一窗受理) and
# items of joint cases (联办) are taken up and decided by their department
COUNTY_DEPARTMENTS = {
    "scj": ("D03", "市场监管"),  # 市场监督管理局
    "cl": ("D05", "残联"),  # 残疾人联合会
    "ny": ("D06", "农业农村"),  # 农业农村局
}
# resident2 (李华) is the legal representative of firm2 (榆次区德顺食品店)
REPRESENTATIONS = (("firm2", "resident2"),)

_ROLE_NAMES = {
    Role.RECEPTIONIST: ("receptionist", "受理员"),
    Role.REVIEWER: ("reviewer", "审查员"),
    Role.DIRECTOR: ("director", "科长"),
    Role.OUTPUT_CLERK: ("output", "出件员"),
    Role.SUPERVISOR: ("supervisor", "督查员"),
    Role.ADMIN: ("admin", "管理员"),
}
_RESIDENTS = ("张明", "李华", "王芳", "赵磊")
_FIRMS = (
    "晋中市汇通商贸有限公司",
    "榆次区德顺食品店",
    "修文镇兴农农机专业合作社",
    "修文村红枣种植家庭农场",
)


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    division_code: str
    key_file: str


DEMO_CLIENTS = (
    DemoClient("yuci-system", "榆次区政务服务系统", "140702000000", "yuci-system.pem"),
    DemoClient("taigu-system", "太谷区政务服务系统", "140703000000", "taigu-system.pem"),
)


def resident_id_number(index: int) -> str:
    """A valid resident ID of someone born in 榆次区 in the 2000s (the region code
    140702 exists since 1999)."""
    stem = f"140702{2000 + index}{index % 12 + 1:02d}{10 + index:02d}{101 + index:03d}"
    return stem + ric.calc_check_digit(stem + "0")


def demo_drafts(password_hash: str) -> list[AccountDraft]:
    drafts: list[AccountDraft] = []

    def staff(
        prefix: str, division: DivisionCode, roles: list[Role], department: str = "D01"
    ) -> None:
        for role in roles:
            slug, title = _ROLE_NAMES[role]
            drafts.append(
                AccountDraft(
                    username=f"{prefix}.{slug}",
                    kind=AccountKind.STAFF,
                    display_name=f"{prefix}{title}",
                    password_hash=password_hash,
                    org_code=org_code_for(division),
                    org_level=division.level,
                    department_id=f"{division.code}{department}",
                    roles=frozenset({role}),
                    division_code=division.code,
                )
            )

    for i, (level, (prefix, code)) in enumerate(ANCHORS.items()):
        division = parse_division(code)
        staff(prefix, division, list(Role))
        drafts.append(
            AccountDraft(
                username=f"{prefix}.auditor",
                kind=AccountKind.AUDITOR,
                display_name=f"{prefix}审计员",
                password_hash=password_hash,
                division_code=code,
            )
        )
        drafts.append(
            AccountDraft(
                username=f"resident{i + 1}",
                kind=AccountKind.PERSON,
                display_name=_RESIDENTS[i],
                password_hash=password_hash,
                id_number=resident_id_number(i),
            )
        )
        drafts.append(
            AccountDraft(
                username=f"firm{i + 1}",
                kind=AccountKind.ENTERPRISE,
                display_name=_FIRMS[i],
                password_hash=password_hash,
                credit_code=make_uscc(f"91{code[:6]}MA0{level.digit}{i:05d}"),
            )
        )
    county_prefix, county_code = ANCHORS[Level.COUNTY]
    for slug, (department, _) in COUNTY_DEPARTMENTS.items():
        staff(
            f"{county_prefix}.{slug}",
            parse_division(county_code),
            [Role.RECEPTIONIST, Role.DIRECTOR],
            department,
        )
    prefix, code = OTHER_COUNTY
    staff(prefix, parse_division(code), [Role.REVIEWER, Role.ADMIN])
    for division, name in load_divisions():
        if division.level is Level.VILLAGE:
            for n in (1, 2):
                drafts.append(
                    AccountDraft(
                        username=f"agent.{division.code}.{n}",
                        kind=AccountKind.AGENT,
                        display_name=f"{name}代办员{n}",
                        password_hash=password_hash,
                        division_code=division.code,
                    )
                )
    return drafts


async def load_demo_accounts(store: Store, *, secret: bytes) -> dict[str, int]:
    now = CREATED_AT
    password_hash = hash_password(DEMO_PASSWORD)
    accounts = [new_account(d, secret=secret, now=now) for d in demo_drafts(password_hash)]
    by_name = {a.username: a for a in accounts}
    async with store.sessions.begin() as session:
        session.add_all(accounts)
        await session.flush()
        for firm, person in REPRESENTATIONS:
            await add_representation(
                by_name[firm],
                by_name[person],
                RepresentativeRole.LEGAL_REPRESENTATIVE,
                session=session,
                now=now,
            )
        for c in DEMO_CLIENTS:
            pem = (CLIENT_KEYS / c.key_file).read_bytes()
            await add_client(
                session=session,
                now=now,
                client_id=c.client_id,
                name=c.name,
                division_code=c.division_code,
                scopes=[s.value for s in Scope],
                public_jwk=public_jwk_from_pem(pem),
            )
    return {
        "accounts": len(accounts),
        "representations": len(REPRESENTATIONS),
        "service_clients": len(DEMO_CLIENTS),
    }


def demo_actor(account: Account, channel: str) -> Actor:
    """Act as one of the demo's accounts, as the resolvers would for it signed in."""
    return Actor(
        id=account.id,
        kind=account.kind.value,
        role=",".join(account.roles) or None,
        channel=channel,
        org_code=account.org_code,
        department_id=account.department_id,
    )
