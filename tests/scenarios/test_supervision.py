"""The supervision query (电子监察, 月报表) over HTTP on the demo city: the city
auditor reads the whole city, the 榆次区 supervisor their county and nothing above
it, a resident nothing; bad codes and periods are typed errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.auth.conftest import signed_in
from tests.conftest import GraphQLClient
from tests.gateway.test_node_failure import village_down as village_down

FIGURES = """
  received accepted completed completedOnTime onTimeRate immediate immediateShare
  immediateTargetMet promisedDays legalDays compressionRate online onlineRate onSite
  onSiteCompletionRate atMostOneVisit atMostOneVisitShare yellowCards redCards
  ratings { verySatisfied satisfied basic dissatisfied veryDissatisfied total }
  negativeRate complaints complaintsHandled complaintsOverdue
  matters oneVisitMatters zeroVisitMatters oneVisitMatterShare zeroVisitConversion
  delivered archiveOverdue
  targets { target value threshold strictlyOver met seed }
"""
SUPERVISION = f"""
query($code: String!, $from: Date, $to: Date) {{
  supervision(divisionCode: $code, from: $from, to: $to) {{
    divisionCode division {{ code name }} from to unavailableLevels
    totals {{ {FIGURES} }}
    byLevel {{ level figures {{ {FIGURES} }} }}
    byOrg {{ orgCode orgName level org {{ code name }} figures {{ {FIGURES} }} }}
  }}
}}"""
CITY = "140700000000"
YUCI = "140702000000"


COUNTS = ("received", "accepted", "completed", "completedOnTime", "immediate", "online",
          "onSite", "atMostOneVisit", "promisedDays", "legalDays", "yellowCards", "redCards",
          "complaints", "matters", "oneVisitMatters", "zeroVisitMatters", "delivered",
          "archiveOverdue")  # fmt: skip
YEAR = {"from": "2026-01-01", "to": "2026-11-30"}


def bearer(payload: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {payload['accessToken']}"}


async def report(gql: GraphQLClient, who: dict[str, str], code: str, **period: str) -> Any:
    body = await gql(SUPERVISION, {"code": code, **period}, **who)
    assert "errors" not in body, body
    return body["data"]["supervision"]


def summed(rows: list[dict[str, Any]], key: str) -> int:
    return sum(r["figures"][key] for r in rows)


async def test_city_auditor_reads_the_whole_city(gql: GraphQLClient) -> None:
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    city = await report(gql, auditor, CITY, **YEAR)

    assert city["division"] == {"code": CITY, "name": "晋中市"}
    assert (city["from"], city["to"], city["unavailableLevels"]) == ("2026-01-01", "2026-11-30", [])
    assert [r["level"] for r in city["byLevel"]] == ["CITY", "COUNTY", "TOWN", "VILLAGE"]
    # every service org of the demo city, by code, each with its org
    orgs = city["byOrg"]
    assert len(orgs) == 1 + 11 + 28 + 85
    assert [o["orgCode"] for o in orgs] == sorted(o["orgCode"] for o in orgs)
    assert all(o["org"]["code"] == o["orgCode"] for o in orgs)
    totals = city["totals"]
    assert totals["received"] > 0 and totals["completed"] > 0
    # the totals are the sums of the orgs and of the levels, and rates follow counts
    for key in COUNTS:
        assert totals[key] == summed(orgs, key) == summed(city["byLevel"], key), key
    assert totals["onTimeRate"] == pytest.approx(totals["completedOnTime"] / totals["completed"])
    assert totals["onlineRate"] == pytest.approx(totals["online"] / totals["received"])
    assert totals["immediateTargetMet"] is (totals["immediateShare"] >= 0.7)
    assert totals["ratings"]["total"] == sum(
        v for k, v in totals["ratings"].items() if k != "total"
    )


async def test_county_supervisor_reads_their_county_only(gql: GraphQLClient) -> None:
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    supervisor = bearer(await signed_in(gql, "yuci.supervisor"))
    city = await report(gql, auditor, CITY, **YEAR)
    yuci = await report(gql, supervisor, YUCI, **YEAR)

    assert yuci["division"]["name"] == "榆次区"
    assert [r["level"] for r in yuci["byLevel"]] == ["COUNTY", "TOWN", "VILLAGE"]
    # the same orgs, with the same figures, as in the city's report
    in_city = {o["orgCode"]: o for o in city["byOrg"]}
    assert yuci["byOrg"] == [in_city[o["orgCode"]] for o in yuci["byOrg"]]
    assert all(o["org"]["code"] and o["level"] != "CITY" for o in yuci["byOrg"])
    # above their county they may not look
    refused = await gql(SUPERVISION, {"code": CITY}, **supervisor)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await gql(SUPERVISION, {"code": "140703000000"}, **supervisor)
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_residents_and_anonymous_callers_are_refused(gql: GraphQLClient) -> None:
    resident = bearer(await signed_in(gql, "resident1"))
    body = await gql(SUPERVISION, {"code": YUCI}, **resident)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await gql(SUPERVISION, {"code": YUCI})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"code": "1407"}, "INVALID_DIVISION_CODE", ["divisionCode"]),
        ({"code": "140702999000"}, "UNKNOWN_DIVISION", ["divisionCode"]),
        ({"code": YUCI, "from": "2026-11-02", "to": "2026-11-01"}, "INVALID_PERIOD", ["from"]),
        ({"code": YUCI, "from": "2025-01-01", "to": "2026-01-02"}, "INVALID_PERIOD", ["to"]),
    ],
)
async def test_bad_codes_and_periods_are_typed_errors(
    gql: GraphQLClient, variables: dict[str, str], code: str, field: list[str]
) -> None:
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    body = await gql(SUPERVISION, variables, **auditor, **{"Accept-Language": "en"})
    assert body["data"] is None
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["extensions"].get("field")) == (code, field)
    assert error["message"].isascii()


async def test_the_period_defaults_to_this_month_so_far(gql: GraphQLClient) -> None:
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    month = await report(gql, auditor, YUCI)
    # the hub's clock says 2026-11-20
    assert (month["from"], month["to"]) == ("2026-11-01", "2026-11-20")
    year = await report(gql, auditor, YUCI, **YEAR)
    assert month["totals"]["received"] <= year["totals"]["received"]


async def test_a_node_down_gives_partial_figures_and_names_its_level(
    village_down: httpx.AsyncClient,
) -> None:
    gql = GraphQLClient(village_down)
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    body = await gql(SUPERVISION, {"code": YUCI, **YEAR}, **auditor)

    data = body["data"]["supervision"]
    assert data["unavailableLevels"] == ["VILLAGE"]
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "NODE_UNAVAILABLE", "level": "VILLAGE", "node": "village", "prefixes": [""]}
    ]
    # the county and the towns still answer; the villages' orgs are not listed
    assert [r["level"] for r in data["byLevel"]] == ["COUNTY", "TOWN"]
    assert {o["level"] for o in data["byOrg"]} == {"COUNTY", "TOWN"}


async def test_seed_004_max_one_visit_targets_are_shown_against_their_figures(
    gql: GraphQLClient,
) -> None:
    """Seed 004 (三): over 80 % of items 一趟不用跑 or 最多跑一趟, at least 70 % of the
    case volume on such items, at least 50 % of them turned into 一趟不用跑."""
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    totals = (await report(gql, auditor, CITY, **YEAR))["totals"]

    assert totals["matters"] >= totals["oneVisitMatters"] >= totals["zeroVisitMatters"] > 0
    targets = {t["target"]: t for t in totals["targets"]}
    assert list(targets) == [
        "IMMEDIATE_SHARE",
        "ONE_VISIT_MATTERS",
        "ONE_VISIT_VOLUME",
        "ZERO_VISIT_CONVERSION",
    ]
    shown = {
        "ONE_VISIT_MATTERS": (totals["oneVisitMatters"] / totals["matters"], 0.8, True),
        "ONE_VISIT_VOLUME": (totals["atMostOneVisitShare"], 0.7, False),
        "ZERO_VISIT_CONVERSION": (
            totals["zeroVisitMatters"] / totals["oneVisitMatters"],
            0.5,
            False,
        ),
        "IMMEDIATE_SHARE": (totals["immediateShare"], 0.7, False),
    }
    for kind, (value, threshold, strictly_over) in shown.items():
        t = targets[kind]
        assert t["value"] == pytest.approx(value), kind
        assert (t["threshold"], t["strictlyOver"]) == (threshold, strictly_over), kind
        assert t["met"] is (value > threshold if strictly_over else value >= threshold), kind
        assert t["seed"].startswith("004"), kind
    assert targets["IMMEDIATE_SHARE"]["met"] is totals["immediateTargetMet"]
