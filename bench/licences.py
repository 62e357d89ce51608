"""E-licence (电子证照) verification: online over HTTP, offline with the kit, and what
the kit costs to serve.

Untimed, the 修文镇 counter issues ``count`` 营业执照 over HTTP: its receptionist
submits 个体工商户登记 (delegated to the town; the implementation found by
``matterImplementations(filter: {basicCode, divisionCode, level})``) for resident3,
every guide material as a FILE, and completes each case on the spot with its
``licenceFields``; each completion must yield one VALID licence with its token. The
library copies are then carried to the city (``gateway.messaging.factory.carry_once``
passes on the stores' loop, so the section leaves no message behind) and the holder's wallet
(``licences(filter: {typeCode})``) must list every one with the same token. The kit is
fetched once (``GET /licences/kit``) and must hold the issuer's status list.

Then, timed: ``verifyLicence(token)`` over HTTP, anonymous, the tokens round-robin,
every answer ``valid: true`` and VALID; ``levels.licences.offline.verify_offline(token,
kit, now)`` in-process, one call at a time, at the hub's (frozen) clock, every outcome
VALID; and ``GET /licences/kit``, one request at a time (the hub keeps the kit for its
max-age and the clock stands still: after the first, each is the kept kit)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench.desk import Counter, submit_cases
from bench.measure import BenchError, HubGraphQL, Load, Timing, drive, post_graphql
from bench.report import grid
from bench.runtime import LoopThread
from gateway.demo.accounts import resident_id_number
from gateway.messaging.factory import carry_once, messenger_for
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.common.enums import Level
from levels.licences.enums import VerificationOutcome
from levels.licences.offline import Kit, verify_offline

LICENCES = 20  # licences issued (untimed) and verified round-robin
OFFLINE_CALLS = 5000  # timed verify_offline calls
OFFLINE_WARMUP = 200
KIT_REQUESTS = 40  # timed GET /licences/kit requests
KIT_WARMUP = 5
TOWN = "140702101000"  # 修文镇
INDIVIDUAL_BUSINESS = "000100200200"  # 个体工商户登记, delegated to the towns
LICENCE_TYPE = "YYZZ"  # 营业执照, what it issues
STAFF = "xiuwen.receptionist"
HOLDER = "resident3"  # of 修文镇: resident_id_number(2)
LICENCE_FIELDS = [
    {"key": "scope", "value": "日用百货零售"},
    {"key": "address", "value": "修文镇修文村1号"},
]
IMPLEMENTATION_QUERY = """
query Item($code: String!, $division: String!, $level: Level!) {
  matterImplementations(filter: {basicCode: $code, divisionCode: $division, level: $level}) {
    edges { node { implementationCode } }
  }
}
"""
COMPLETE_QUERY = """
mutation Complete($input: CaseActionInput!) {
  completeCase(input: $input) {
    case { number status licences { identifier typeCode status token } }
    errors { code field message }
  }
}
"""
WALLET_QUERY = """
query Wallet($type: String, $after: String) {
  licences(filter: {typeCode: $type}, first: 100, after: $after) {
    edges { node { identifier status token } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
VERIFY_QUERY = """
query Verify($token: String!) {
  verifyLicence(token: $token) { valid outcome status reason }
}
"""
KIT_PATH = "/licences/kit"


@dataclass(frozen=True)
class LicenceCost:
    backend: str
    licences: int  # issued for the section, verified round-robin
    issuer: str  # the issuing org's code
    online: Timing  # verifyLicence over HTTP
    concurrency: int  # verifyLicence requests in flight
    offline: Timing  # verify_offline in-process, one at a time
    kit: Timing  # GET /licences/kit, one at a time
    kit_bytes: int
    kit_keys: int  # keys in the kit's JWKS
    kit_lists: int  # status lists in the kit

    @property
    def offline_per_second(self) -> float:
        return self.offline.per_second


async def _implementation(graphql: HubGraphQL) -> str:
    """The town's implementation code of 个体工商户登记."""
    variables = {"code": INDIVIDUAL_BUSINESS, "division": TOWN, "level": Level.TOWN.value}
    data = await graphql(IMPLEMENTATION_QUERY, variables)
    codes = [e["node"]["implementationCode"] for e in data["matterImplementations"]["edges"]]
    if len(codes) != 1:
        raise BenchError(f"{INDIVIDUAL_BUSINESS} at {TOWN}: implementations {codes}")
    code: str = codes[0]
    return code


async def _complete(graphql: HubGraphQL, number: str) -> dict[str, Any]:
    """Complete ``number`` on the spot; the one licence it issued."""
    variables = {"input": {"number": number, "licenceFields": LICENCE_FIELDS}}
    data = await graphql(COMPLETE_QUERY, variables, bearer=STAFF)
    payload: dict[str, Any] = data.get("completeCase") or {}
    case = payload.get("case") or {}
    issued = case.get("licences") or []
    if (
        payload.get("errors")
        or case.get("status") != "COMPLETED"
        or len(issued) != 1
        or issued[0].get("typeCode") != LICENCE_TYPE
        or issued[0].get("status") != "VALID"
        or not issued[0].get("token")
    ):
        raise BenchError(
            f"completeCase {number} did not issue one VALID {LICENCE_TYPE}: "
            f"{orjson.dumps(payload).decode()}"
        )
    licence: dict[str, Any] = issued[0]
    return licence


async def _settle(nodes: NodeRegistry, clock: Clock, settings: Settings, expected: int) -> int:
    """``carry_once`` passes until one moves nothing; the messages applied (at least
    ``expected``: one library copy per licence)."""
    applied = 0
    for _ in range(2 * math.ceil(expected / settings.relay_batch_size) + 5):
        done = await carry_once(messenger_for(settings, nodes, clock))
        if done.failed or done.retrying or done.refused or done.down or done.duplicates:
            raise BenchError(f"licences: relay pass: {done}")
        applied += done.applied
        if not done.moved:
            if applied < expected:
                raise BenchError(f"licences: {applied} library copies relayed, {expected} issued")
            return applied
    raise BenchError(f"licences: the relay still moved messages after {applied} applied")


async def _wallet(graphql: HubGraphQL) -> dict[str, str]:
    """The holder's VALID 营业执照 as the wallet lists them: identifier → token."""
    found: dict[str, str] = {}
    after: str | None = None
    while True:
        data = await graphql(WALLET_QUERY, {"type": LICENCE_TYPE, "after": after}, bearer=HOLDER)
        page = data["licences"]
        for edge in page["edges"]:
            node = edge["node"]
            if node["status"] == "VALID":
                found[node["identifier"]] = node["token"]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _kit_problem(document: Any, issuer: str) -> str | None:
    if not isinstance(document, dict):
        return "not a JSON object"
    if issuer not in (document.get("statusLists") or {}):
        return f"no status list of {issuer}"
    if not (document.get("jwks") or {}).get("keys"):
        return "no keys"
    if document.get("unavailableLevels"):
        return f"levels unavailable: {document['unavailableLevels']}"
    return None


async def _fetch_kit(client: httpx.AsyncClient, issuer: str) -> tuple[dict[str, Any], int]:
    """The kit document, checked, and its size in bytes."""
    response = await client.get(KIT_PATH)
    if response.status_code != 200:
        raise BenchError(f"{KIT_PATH}: HTTP {response.status_code}: {response.text[:1000]}")
    document = orjson.loads(response.content)
    problem = _kit_problem(document, issuer)
    if problem is not None:
        raise BenchError(f"{KIT_PATH}: {problem}")
    checked: dict[str, Any] = document
    return checked, len(response.content)


async def measure_licences(
    backend: str,
    client: httpx.AsyncClient,
    nodes: NodeRegistry,
    stores: LoopThread,
    clock: Clock,
    settings: Settings,
    load: Load,
    count: int = LICENCES,
) -> LicenceCost:
    # --- untimed: issue the licences, relay their library copies, fetch the kit -------
    graphql = HubGraphQL(client)
    implementation = await _implementation(graphql)
    counter = Counter(Level.TOWN, STAFF, implementation, resident_id_number(2))
    numbers = await submit_cases(graphql, counter, count, load.concurrency)
    # one after the other: the town's serial and status-list index are handed out in turn
    issued = [await _complete(graphql, number) for number in numbers]
    tokens = [licence["token"] for licence in issued]
    await stores.run_async(_settle(nodes, clock, settings, count))
    wallet = await _wallet(graphql)
    missing = [
        licence["identifier"]
        for licence in issued
        if wallet.get(licence["identifier"]) != licence["token"]
    ]
    if missing:
        raise BenchError(f"licences: not in {HOLDER}'s wallet with their token: {missing[:5]}")
    document, kit_bytes = await _fetch_kit(client, counter.org_code)
    kit = Kit(document)
    now = clock.now()

    # --- online: verifyLicence over HTTP, anonymous -----------------------------------
    headers = {"content-type": "application/json"}
    bodies = itertools.cycle(
        [orjson.dumps({"query": VERIFY_QUERY, "variables": {"token": t}}) for t in tokens]
    )

    async def online() -> None:
        data = await post_graphql(client, "verifyLicence", next(bodies), headers)
        answer = data.get("verifyLicence") or {}
        if answer.get("valid") is not True or answer.get("outcome") != "VALID":
            raise BenchError(f"verifyLicence: not valid: {orjson.dumps(answer).decode()}")

    online_timing = await drive(
        online,
        warmup=load.warmup,
        requests=load.requests,
        max_seconds=load.max_seconds,
        concurrency=load.concurrency,
    )

    # --- offline: verify_offline in-process, one call at a time -----------------------
    presented = itertools.cycle(tokens)

    async def offline() -> None:
        verdict = verify_offline(next(presented), kit, now)
        if verdict.outcome is not VerificationOutcome.VALID:
            raise BenchError(f"verify_offline: {verdict.outcome.value} ({verdict.reason})")

    offline_timing = await drive(
        offline,
        warmup=OFFLINE_WARMUP,
        requests=OFFLINE_CALLS,
        max_seconds=60.0,
        concurrency=1,
    )

    # --- the kit: GET /licences/kit, one request at a time ----------------------------
    async def fetch() -> None:
        response = await client.get(KIT_PATH)
        if response.status_code != 200:
            raise BenchError(f"{KIT_PATH}: HTTP {response.status_code}: {response.text[:1000]}")

    kit_timing = await drive(
        fetch, warmup=KIT_WARMUP, requests=KIT_REQUESTS, max_seconds=60.0, concurrency=1
    )
    await _fetch_kit(client, counter.org_code)  # still whole after the run
    return LicenceCost(
        backend,
        count,
        counter.org_code,
        online_timing,
        load.concurrency,
        offline_timing,
        kit_timing,
        kit_bytes,
        len(kit.keys),
        len(kit.status_lists),
    )


HEADERS = (
    "backend",
    "licences",
    "verifyLicence requests",
    "p50 ms",
    "p99 ms",
    "req/s",
    "offline calls",
    "offline/s",
    "offline p50 µs",
    "kit requests",
    "kit p50 ms",
    "kit",
)


def section(costs: Sequence[LicenceCost]) -> str:
    """The e-licence verification section printed under the table."""
    if not costs:
        return "E-licence verification: not measured."
    rows = [
        (
            c.backend,
            str(c.licences),
            str(c.online.requests),
            f"{c.online.p50_ms:.2f}",
            f"{c.online.p99_ms:.2f}",
            f"{c.online.per_second:.1f}",
            str(c.offline.requests),
            f"{c.offline_per_second:.0f}",
            f"{c.offline.p50_ms * 1000:.1f}",
            str(c.kit.requests),
            f"{c.kit.p50_ms:.2f}",
            f"{c.kit_bytes} B, {c.kit_keys} keys, {c.kit_lists} lists",
        )
        for c in costs
    ]
    c0 = costs[0]
    intro = (
        f"E-licence verification: {c0.licences} 营业执照 issued untimed by {STAFF} "
        f"(个体工商户登记 {INDIVIDUAL_BUSINESS} of 修文镇, completed on the spot for "
        f"{HOLDER}; issuer {c0.issuer}), their library copies relayed and checked in the "
        f"holder's wallet. `verifyLicence(token)` over HTTP, anonymous, the tokens "
        f"round-robin ({c0.concurrency} in flight), every answer `valid: true`; "
        "`verify_offline(token, kit, now)` in-process with the kit fetched once, one call "
        "at a time at the hub's clock, every outcome VALID (each call checks the token's "
        "and the status list's signatures); `GET /licences/kit` one request at a time "
        "(every level store's status lists signed afresh, the JWKS and the library orgs)."
    )
    return intro + "\n\n" + grid(HEADERS, rows, {0, 11})
