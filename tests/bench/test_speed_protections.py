"""The protections table of the bench (bench/speed_protections.py): each protection can
be left out of a served hub on its own by replacing its one piece (a schema built
without the guard has no guarded resolver), and the table shows each one's share of
p50 against the 10 % goal."""

from __future__ import annotations

import math

import pytest

import gateway.app
import resolvers.cases
import schema.build
from auth.permissions import guard_schema
from bench import speed_protections
from bench.driver import Outcome
from bench.speed import SpeedRun
from bench.speed_protections import PROTECTIONS, STAFF_READ, ProtectionRun, switch_off
from bench.speed_report import each_protection_section
from gateway import ratelimit


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a switch replaces is put back after the test."""
    for owner, name in (
        (gateway.app, "operation_extensions"),
        (gateway.app, "CostBudget"),
        (gateway.app, "ClientRateLimit"),
        (ratelimit, "address_limit"),
        (schema.build, "guard_schema"),
        (gateway.app, "ProdErrors"),
        (resolvers.cases, "audit_read"),
    ):
        monkeypatch.setattr(owner, name, getattr(owner, name))


def _guarded(built: object) -> int:
    fields = [
        f
        for t in built._schema.type_map.values()  # type: ignore[attr-defined]
        if hasattr(t, "fields") and not t.name.startswith("__")
        for f in t.fields.values()
    ]
    resolvers = [getattr(f, "resolve", None) for f in fields]
    return sum(1 for r in resolvers if getattr(r, "__govhub_guarded__", False))


@pytest.mark.usefixtures("restored")
def test_leaving_out_the_guard_builds_a_schema_without_it() -> None:
    assert _guarded(schema.build.build_schema()) > 100
    switch_off(["guard"])
    assert _guarded(schema.build.build_schema()) == 0


@pytest.mark.usefixtures("restored")
def test_each_protection_switch_replaces_its_own_piece() -> None:
    pieces = {
        "limits": (gateway.app, "operation_extensions"),
        "cost-budget": (gateway.app, "CostBudget"),
        "rate-limits": (gateway.app, "ClientRateLimit"),
        "guard": (schema.build, "guard_schema"),
        "staff-read-audit": (resolvers.cases, "audit_read"),
        "masking": (gateway.app, "ProdErrors"),
    }
    assert set(pieces) == {p.key for p in PROTECTIONS}
    for key, (owner, name) in pieces.items():
        before = getattr(owner, name)
        switch_off([key])
        assert getattr(owner, name) is not before, key
    assert schema.build.guard_schema is not guard_schema
    assert ratelimit.address_limit() is None


def _outcome(p50_ms: float, failures: int = 0) -> Outcome:
    return Outcome([p50_ms / 1000] * 3, failures, 1.0, 1)


def test_the_table_gives_each_protections_share_of_p50_against_the_goal() -> None:
    keys = (*speed_protections.KEYS, STAFF_READ)
    outcomes = {("on", k): _outcome(20.0) for k in keys}
    for p in PROTECTIONS:
        for k in keys:
            outcomes[(p.key, k)] = _outcome(20.0)
    outcomes[("staff-read-audit", STAFF_READ)] = _outcome(15.0)  # the audit: 25 %
    found = ProtectionRun(outcomes)
    assert math.isclose(found.share("staff-read-audit", STAFF_READ), 0.25)
    assert found.share("guard", "routes") == 0
    text = each_protection_section(SpeedRun(each_protection=found))
    lines = {line.split("|")[1].strip(): line for line in text.splitlines() if "|" in line}
    assert lines["without audit of staff reads"].rstrip(" |").endswith("NOT met")
    assert "(+25 %)" in lines["without audit of staff reads"]
    assert lines["without authorization guard on every object"].rstrip(" |").endswith("met")
