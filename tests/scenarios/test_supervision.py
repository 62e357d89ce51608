"""The supervision query (电子监察, 月报表) over HTTP on the demo city: the city
auditor reads the whole city, the 榆次区 supervisor their county and nothing above
it, a resident nothing; bad codes and periods are typed errors."""

from __future__ import annotations

from typing import Any

from tests.auth.conftest import signed_in
from tests.conftest import GraphQLClient

FIGURES = """
  received accepted completed completedOnTime onTimeRate immediate immediateShare
  immediateTargetMet promisedDays legalDays compressionRate online onlineRate onSite
  onSiteCompletionRate atMostOneVisit atMostOneVisitShare yellowCards redCards
  ratings { verySatisfied satisfied basic dissatisfied veryDissatisfied total }
  negativeRate complaints complaintsHandled complaintsOverdue
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


def bearer(payload: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {payload['accessToken']}"}


async def test_city_auditor_reads_the_whole_city(gql: GraphQLClient) -> None:
    auditor = bearer(await signed_in(gql, "jz.auditor"))
    body = await gql(
        SUPERVISION, {"code": CITY, "from": "2026-01-01", "to": "2026-11-30"}, **auditor
    )
    assert "errors" not in body, body
    report = body["data"]["supervision"]
    assert report["division"]["name"] == "晋中市"
    assert [r["level"] for r in report["byLevel"]] == ["CITY", "COUNTY", "TOWN", "VILLAGE"]
    assert len(report["byOrg"]) == 1 + 11 + 28 + 85
