"""What the benchmark asks: each ``Scenario`` is one GraphQL request sent over HTTP to the
hub, and a baseline coroutine that fetches the same rows straight from the stores'
engines with SQLAlchemy Core and serialises them with orjson (no GraphQL, no loaders,
no route computation). Later issues add scenarios by appending to ``SCENARIOS``.

The identity scenarios: the same cheap query anonymous and with a bearer token (what
verifying the token costs a request), and ``login`` (round-robin over demo accounts)
against argon2 verification alone."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from argon2 import PasswordHasher
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.demo.accounts import DEMO_PASSWORD
from gateway.nodes import LevelNode, NodeRegistry
from levels.city.models import Matter
from levels.common.codes import parse_division
from levels.common.enums import Level, MatterStatus
from levels.common.models import (
    Division,
    ImplementationMaterial,
    MatterImplementation,
    ServiceOrg,
)
from levels.county.models import Delegation, DelegationTarget

Baseline = Callable[[NodeRegistry], Awaitable[bytes]]
Check = Callable[[dict[str, Any]], str | None]


def _no_check(_data: dict[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class Scenario:
    name: str
    query: str
    variables: dict[str, Any]
    baseline: Baseline
    # what the baseline fetches, for the notes under the table
    baseline_note: str
    # a problem with the first response's ``data`` (e.g. an empty page), or None
    check: Check = field(default=_no_check)
    # per-request variables, used round-robin instead of ``variables`` when given
    variants: tuple[dict[str, Any], ...] = ()
    # a demo username: the requests carry its access token (``Authorization: Bearer``),
    # from a login over HTTP when the scenario starts on each backend
    bearer: str | None = None
    # at most this many timed requests (and a tenth as many warm-up ones), for
    # deliberately costly requests such as login
    max_requests: int | None = None


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


async def _fetch(conn: AsyncConnection, stmt: Select[Any]) -> list[dict[str, Any]]:
    return _rows(await conn.execute(stmt))


def _edges(path: Sequence[str]) -> Check:
    def check(data: dict[str, Any]) -> str | None:
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        edges = node.get("edges") if isinstance(node, dict) else None
        return None if edges else f"{'.'.join(path)} returned no edges"

    return check


# --- village serviceRoutes ----------------------------------------------------------

VILLAGE = "140702101201"
ROUTES_QUERY = """
query VillageRoutes($divisionCode: String!, $first: Int) {
  serviceRoutes(divisionCode: $divisionCode, first: $first) {
    edges { node {
      matter { basicCode name type }
      implementation {
        implementationCode handlingKind promisedTimeLimitDays materials { name form }
      }
      decidedAt { name level }
      path { name }
      delegation { legalInstrument }
      villageModes maxVisits onlineLevel
    } }
  }
}
"""

_impl = MatterImplementation.__table__
_material = ImplementationMaterial.__table__
_org = ServiceOrg.__table__
_matter = Matter.__table__
_delegation = Delegation.__table__
_target = DelegationTarget.__table__


async def _chain_rows(node: LevelNode, division_code: str) -> dict[str, list[dict[str, Any]]]:
    """One level store: its published items for the division, their materials, its org."""
    impls_stmt = (
        select(
            _impl.c.code,
            _impl.c.basic_code,
            _impl.c.org_code,
            _impl.c.division_code,
            _impl.c.level,
            _impl.c.handling_kind,
            _impl.c.promised_time_limit_days,
            _impl.c.max_visits,
            _impl.c.online_level,
            _impl.c.village_modes,
            _impl.c.receive_levels,
            _impl.c.preliminary_review,
            _impl.c.delegated_from,
            _impl.c.delegation_id,
        )
        .where(_impl.c.division_code == division_code)
        .where(_impl.c.status == MatterStatus.PUBLISHED)
        .order_by(_impl.c.basic_code)
    )
    async with node.engine.connect() as conn:
        impls = await _fetch(conn, impls_stmt)
        materials: list[dict[str, Any]] = []
        if impls:
            materials = await _fetch(
                conn,
                select(
                    _material.c.implementation_code,
                    _material.c.position,
                    _material.c.name,
                    _material.c.form,
                )
                .where(_material.c.implementation_code.in_([i["code"] for i in impls]))
                .order_by(_material.c.implementation_code, _material.c.position),
            )
        orgs = await _fetch(
            conn,
            select(_org.c.code, _org.c.name, _org.c.level, _org.c.division_code).where(
                _org.c.division_code == division_code
            ),
        )
    return {"implementations": impls, "materials": materials, "orgs": orgs}


async def _matters(node: LevelNode, codes: list[str]) -> list[dict[str, Any]]:
    stmt = select(_matter.c.basic_code, _matter.c.name, _matter.c.type, _matter.c.status)
    async with node.engine.connect() as conn:
        return await _fetch(conn, stmt.where(_matter.c.basic_code.in_(codes)))


async def _delegations(node: LevelNode, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not ids:
        return {"delegations": [], "targets": []}
    stmt = select(
        _delegation.c.id,
        _delegation.c.legal_instrument,
        _delegation.c.all_towns,
        _delegation.c.effective_from,
        _delegation.c.revoked_at,
    ).where(_delegation.c.id.in_(ids))
    async with node.engine.connect() as conn:
        delegations = await _fetch(conn, stmt)
        targets = await _fetch(conn, select(_target).where(_target.c.delegation_id.in_(ids)))
    return {"delegations": delegations, "targets": targets}


async def routes_baseline(nodes: NodeRegistry) -> bytes:
    chain = {d.level: d.code for d in parse_division(VILLAGE).chain}
    levels = list(chain)
    per_level = await asyncio.gather(*(_chain_rows(nodes[lv], chain[lv]) for lv in levels))
    by_level = dict(zip(levels, per_level, strict=True))
    impls = [i for rows in per_level for i in rows["implementations"]]
    basic_codes = sorted({i["basic_code"] for i in impls})
    delegation_ids = sorted(
        {
            i["delegation_id"]
            for i in by_level.get(Level.TOWN, {}).get("implementations", [])
            if i["delegation_id"]
        }
    )
    matters, delegations = await asyncio.gather(
        _matters(nodes[Level.CITY], basic_codes),
        _delegations(nodes[Level.COUNTY], delegation_ids),
    )
    return orjson.dumps(
        {
            "implementations": impls,
            "materials": [m for rows in per_level for m in rows["materials"]],
            "orgs": [o for rows in per_level for o in rows["orgs"]],
            "matters": matters,
            **delegations,
        }
    )


ROUTES = Scenario(
    name="village serviceRoutes",
    query=ROUTES_QUERY,
    variables={"divisionCode": VILLAGE, "first": 50},
    baseline=routes_baseline,
    baseline_note=(
        "published implementation rows of the 4 chain divisions with their materials and "
        "the chain's 4 orgs (one connection per level store, stores in parallel), then "
        "the matters (city) and the town items' delegations with their targets (county); "
        "no route computation"
    ),
    check=_edges(["serviceRoutes"]),
)

# --- matters search --------------------------------------------------------------------

PAGE = 20
MATTERS_QUERY = """
query MatterSearch($first: Int) {
  matters(filter: {status: PUBLISHED}, first: $first) {
    edges { node { basicCode name type department legalTimeLimitDays } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def matters_baseline(nodes: NodeRegistry) -> bytes:
    stmt = (
        select(
            _matter.c.basic_code,
            _matter.c.name,
            _matter.c.type,
            _matter.c.department,
            _matter.c.legal_time_limit_days,
        )
        .where(_matter.c.status == "PUBLISHED")
        .order_by(_matter.c.basic_code)
        .limit(PAGE + 1)
    )
    async with nodes[Level.CITY].engine.connect() as conn:
        rows = await _fetch(conn, stmt)
    page = rows[:PAGE]
    return orjson.dumps(
        {
            "matters": page,
            "hasNextPage": len(rows) > PAGE,
            "endCursor": page[-1]["basic_code"] if page else None,
        }
    )


MATTERS = Scenario(
    name="matters search page of 20",
    query=MATTERS_QUERY,
    variables={"first": PAGE},
    baseline=matters_baseline,
    baseline_note=f"one page of {PAGE} (+1) published matters (city store)",
    check=_edges(["matters"]),
)

# --- one division, anonymous and with a bearer token ------------------------------------

COUNTY = "140702000000"
DIVISION_QUERY = "query Division($code: String!) { division(code: $code) { name } }"
BEARER_USER = "resident1"
_division = Division.__table__


async def division_baseline(nodes: NodeRegistry) -> bytes:
    stmt = select(_division.c.name).where(_division.c.code == COUNTY)
    async with nodes[Level.COUNTY].engine.connect() as conn:
        rows = await _fetch(conn, stmt)
    return orjson.dumps({"division": rows[0] if rows else None})


def _division_found(data: dict[str, Any]) -> str | None:
    return None if (data.get("division") or {}).get("name") else f"division {COUNTY} not found"


DIVISION = Scenario(
    name="division by code",
    query=DIVISION_QUERY,
    variables={"code": COUNTY},
    baseline=division_baseline,
    baseline_note="the name of one division by primary key (county store)",
    check=_division_found,
)
DIVISION_BEARER = Scenario(
    name=f"division by code, bearer ({BEARER_USER})",
    query=DIVISION_QUERY,
    variables={"code": COUNTY},
    baseline=division_baseline,
    baseline_note=DIVISION.baseline_note + "; the token is not looked at",
    check=_division_found,
    bearer=BEARER_USER,
)

# --- login -----------------------------------------------------------------------------

LOGIN_QUERY = """
mutation Login($username: String!, $password: String!) {
  login(input: {username: $username, password: $password, channel: WEB}) {
    accessToken refreshToken expiresIn errors { code }
  }
}
"""
# demo accounts of every kind, one after the other
LOGIN_USERS = (
    "resident1",
    "yuci.reviewer",
    "jz.auditor",
    "firm1",
    "resident2",
    "xiuwen.receptionist",
    "xiuwencun.director",
    "resident3",
)
LOGIN_REQUESTS = 40


def login_variables(username: str) -> dict[str, Any]:
    return {"username": username, "password": DEMO_PASSWORD}


def login_problem(data: dict[str, Any]) -> str | None:
    payload = data.get("login") or {}
    if payload.get("errors") or not payload.get("accessToken"):
        return f"login failed: {orjson.dumps(payload).decode()}"
    return None


_argon2 = PasswordHasher()


@functools.cache
def _demo_hash() -> str:
    return _argon2.hash(DEMO_PASSWORD)


async def argon2_baseline(_nodes: NodeRegistry) -> bytes:
    """Password verification alone: what every login pays before anything else."""
    return orjson.dumps({"verified": _argon2.verify(_demo_hash(), DEMO_PASSWORD)})


LOGIN = Scenario(
    name="login",
    query=LOGIN_QUERY,
    variables=login_variables(LOGIN_USERS[0]),
    baseline=argon2_baseline,
    baseline_note=(
        "argon2.PasswordHasher().verify(hash, password) in-process (argon2-cffi defaults, "
        "as the hub hashes), no store, no token, on the event loop; the hub verifies in a "
        "worker thread, so logins in flight use both cores"
    ),
    check=login_problem,
    variants=tuple(login_variables(u) for u in LOGIN_USERS),
    max_requests=LOGIN_REQUESTS,
)

SCENARIOS: list[Scenario] = [ROUTES, MATTERS, DIVISION, DIVISION_BEARER, LOGIN]
