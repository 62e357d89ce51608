"""What each protection costs (goal 5 of GovHub issue 17: each under 10 % of p50).

The hub is served as in production (``python -m bench.serve hub``) with everything on,
and once per protection with that one switched off in the server process
(``GOVHUB_BENCH_WITHOUT=<key>``, read by ``bench.serve`` before the app is built), all
at once; each row is p50 at one client for the protected scenarios and an auditor's
read of one case (the audited staff read), timed in interleaved slices so that the
drift of a busy machine does not land on one protection.

Switching off is done the way a fork of the hub would, by replacing the one piece:

* ``limits``: the document limits (tokens, depth, aliases, root fields, the static cost
  estimate) and with them the cost budget they charge — the document cache stays;
* ``cost-budget``: the per-client budget alone (the estimate is still computed);
* ``rate-limits``: the per-address middleware and the per-client limit;
* ``guard``: the READ guard around every object-returning resolver;
* ``staff-read-audit``: the audit event a staff read of a case writes;
* ``masking``: the prod masking of unexpected errors (ID numbers are stored masked,
  ``applicant_id_masked``, so showing them costs nothing per request)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.driver import Call, Driver, Outcome, Plan, graphql_call
from bench.paired import SLICE_SECONDS, merged, share
from bench.speed_cases import SPEED_CASES

ENV = "GOVHUB_BENCH_WITHOUT"
# a member of staff of 榆次区 (a supervisor), who may read the resident's cases there:
# every read they make is audited (an auditor's is not: only staff reads are)
STAFF = "yuci.supervisor"
# the scenarios every protection is timed on, then the staff read of one case
KEYS = ("routes", "my-cases", "auditor-cases")
STAFF_READ = "staff-read"
STAFF_READ_QUERY = """
query StaffRead($number: String!) {
  case(number: $number) { number status matterName applicantName applicantIdMasked }
}
"""
GOAL = 0.10


@dataclass(frozen=True)
class Protection:
    key: str
    name: str
    switch_off: Callable[[], None]


def _no_limits() -> None:
    import gateway.app
    from gateway.documents import DocumentCache, Documents

    def only_the_cache(*_args: Any, **_kw: Any) -> list[Callable[[], Any]]:
        documents = Documents()
        return [lambda: DocumentCache(documents)]

    gateway.app.operation_extensions = only_the_cache


def _no_cost_budget() -> None:
    import gateway.app

    gateway.app.CostBudget = lambda *_a, **_kw: None  # type: ignore[assignment,misc]


def _no_rate_limits() -> None:
    import gateway.app

    gateway.app.ratelimit.address_limit = lambda *_a, **_kw: None
    gateway.app.ClientRateLimit = lambda app, *_a, **_kw: app  # type: ignore[assignment,misc]


def _no_guard() -> None:
    import schema.build

    schema.build.guard_schema = lambda _schema: None  # type: ignore[assignment]


def _no_staff_read_audit() -> None:
    import resolvers.cases

    async def not_audited(*_args: Any) -> None:
        return None

    resolvers.cases.audit_read = not_audited  # type: ignore[assignment]


def _no_masking() -> None:
    from strawberry.extensions import SchemaExtension

    import gateway.app

    gateway.app.ProdErrors = lambda **_kw: SchemaExtension()  # type: ignore[assignment,misc]


PROTECTIONS = (
    Protection("limits", "document limits (+ the budget they charge)", _no_limits),
    Protection("cost-budget", "cost budget", _no_cost_budget),
    Protection("rate-limits", "rate limits (address, client)", _no_rate_limits),
    Protection("guard", "authorization guard on every object", _no_guard),
    Protection("staff-read-audit", "audit of staff reads", _no_staff_read_audit),
    Protection("masking", "masking of unexpected errors", _no_masking),
)


def switch_off(keys: Iterable[str]) -> None:
    """In a server process, before its app is built: leave out these protections."""
    by_key = {p.key: p for p in PROTECTIONS}
    for key in keys:
        by_key[key].switch_off()


@dataclass
class ProtectionRun:
    # (variant, scenario) -> its slices pooled; variants: "on", then the protection keys
    outcomes: dict[tuple[str, str], Outcome]
    # (protection, scenario) -> (on − off) ÷ on of each pair of adjacent slices
    paired: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def on_p50(self, scenario: str) -> float:
        return self.outcomes[("on", scenario)].p50_ms

    def share(self, key: str, scenario: str) -> float:
        """The protection's part of the hub's p50: the median over the paired slices
        of (on − off) ÷ on, else from the pooled p50s."""
        pairs = [x for x in self.paired.get((key, scenario), []) if not math.isnan(x)]
        if pairs:
            return statistics.median(pairs)
        on = self.on_p50(scenario)
        off = self.outcomes[(key, scenario)].p50_ms
        return (on - off) / on if on else math.nan

    def failures(self, key: str) -> int:
        return sum(o.failures for (v, _), o in self.outcomes.items() if v in (key, "on"))


# every variant is served at once (at one client each holds a connection or two per
# store): pools of 1 + 1 per store keep the 7 servers within 70 connections
BUDGET_ENV = {"GOVHUB_DB_CONNECTION_BUDGET": "10"}


def measure(
    driver: Driver,
    serve: Callable[[str, dict[str, str]], Any],
    tokens_of: Callable[[str], dict[str, str]],
    staff_case: str,
    seconds: float,
    say: Callable[[str], None],
) -> ProtectionRun:
    """``serve(log_name, extra_env)`` is a context manager giving a served hub;
    ``tokens_of(base_url)`` the bench accounts' tokens there. Every variant is served
    at once; each protection's slice of ``SLICE_SECONDS`` is paired with a slice of the
    hub with everything on right next to it (which goes first alternates by round), so
    the drift of a shared machine lands on both halves of a pair alike. A row's share
    is the median over its pairs; its p50 pools its slices."""
    keys = [p.key for p in PROTECTIONS]
    variants = ["on", *keys]
    cases = {c.key: c for c in SPEED_CASES}
    # a pair per protection, scenario and second of ``seconds``
    rounds = max(3, round(seconds))
    slices: dict[tuple[str, str], list[Outcome]] = {}
    paired: dict[tuple[str, str], list[float]] = {}
    with contextlib.ExitStack() as stack:
        calls: dict[str, tuple[str, dict[str, Call]]] = {}
        for variant in variants:
            extra = dict(BUDGET_ENV) if variant == "on" else {**BUDGET_ENV, ENV: variant}
            hub = stack.enter_context(serve(f"hub-without-{variant}", extra))
            tokens = tokens_of(hub.base_url)
            mine: dict[str, Call] = {}
            for key in KEYS:
                bearer = cases[key].bearer
                token = tokens[bearer] if bearer else None
                mine[key] = graphql_call(
                    "/graphql", cases[key].query, dict(cases[key].variables), token
                )
            mine[STAFF_READ] = graphql_call(
                "/graphql", STAFF_READ_QUERY, {"number": staff_case}, tokens[STAFF]
            )
            calls[variant] = (hub.base_url, mine)

        def timed(variant: str, scenario: str, warmup: float) -> Outcome:
            base_url, mine = calls[variant]
            plan = Plan(base_url, (mine[scenario],), 1, SLICE_SECONDS, warmup=warmup)
            out = driver.run(plan)
            slices.setdefault((variant, scenario), []).append(out)
            return out

        for scenario in (*KEYS, STAFF_READ):
            for variant in variants:  # warm every server on this scenario, untimed
                driver.run(Plan(calls[variant][0], (calls[variant][1][scenario],), 1, 0.5))
            for n in range(rounds):
                for key in keys[n % len(keys) :] + keys[: n % len(keys)]:
                    first, second = ("on", key) if n % 2 == 0 else (key, "on")
                    a = timed(first, scenario, 0.1)
                    b = timed(second, scenario, 0.1)
                    on, off = (a, b) if first == "on" else (b, a)
                    paired.setdefault((key, scenario), []).append(share(on, off))
    run = ProtectionRun({k: merged(v) for k, v in slices.items()}, paired)
    for (variant, key), out in run.outcomes.items():
        say(
            f"  protections, {variant}, {key}: p50 {out.p50_ms:.1f} ms, "
            f"{out.failures} of {out.requests} failed"
        )
    return run


def staff_case_number(answer: dict[str, Any]) -> str:
    """A case the supervisor may read: the first of the resident's own ("my cases",
    held at 榆次区)."""
    edges = answer["data"]["cases"]["edges"]
    number: str = edges[0]["node"]["number"]
    return number


def tokens_for(base_url: str) -> dict[str, str]:
    from bench.speed import _tokens

    users = {c.bearer for c in SPEED_CASES if c.bearer} | {STAFF}
    return asyncio.run(_tokens(base_url, users))
