"""The journey of issue "e-licences", over HTTP as the real roles: a 修文镇 counter
registers a resident's individual business (个体工商户登记, delegated to the town) →
the 营业执照 is issued and appears in the resident's wallet on the phone → it verifies
online, offline with the kit, and from its QR code → a later 食品经营许可 application
at 榆次区 is filled from the library and the licence shows the use → the town revokes
it → verification fails online at once, offline once the kit's TTL has passed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import numpy as np
import pytest
import segno
import zxingcpp

from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.licences.offline import Kit, verify_offline
from tests.scenarios.desk import SUBMIT, Desk, at
from tests.support.messages import carry

TOWN = "140702101000"  # 修文镇
INDIVIDUAL_BUSINESS = "000100200200"  # 个体工商户登记 (delegated to the towns)
FOOD = "000100200100"  # 食品经营许可, asks for the 营业执照
HOLDER = "resident3"
DAY = dt.date(2026, 11, 16)  # a Monday

LICENCE_FIELDS = """
  id identifier typeCode typeName version status statusReason issuerName issuerLevel
  holderName holderIdMasked sourceCaseNumber validFrom validUntil token qrSvg
  fields { key label value }
  uses { kind caseNumber material purpose usedByOrg }
"""
COMPLETE = f"""
mutation($input: CaseActionInput!) {{
  completeCase(input: $input) {{
    case {{ number status licences {{ {LICENCE_FIELDS} }} }}
    errors {{ code field }}
  }}
}}"""
WALLET = f"""
query($type: String) {{
  licences(filter: {{typeCode: $type}}, first: 50) {{ edges {{ node {{ {LICENCE_FIELDS} }} }} }}
}}"""
VERIFY = """
query($token: String!) {
  verifyLicence(token: $token) {
    valid outcome status reason
    claims { identifier typeName holderName holderIdMasked issuerName validUntil
             fields { label value } }
    licence { identifier }
  }
}"""
REVOKE = """
mutation($input: LicenceActionInput!) {
  revokeLicence(input: $input) { licence { identifier status statusReason } errors { code } }
}"""
IMPLEMENTATION = """
query($code: String!, $division: String!, $level: Level!) {
  matterImplementations(filter: {basicCode: $code, divisionCode: $division, level: $level}) {
    edges { node { implementationCode materials { name satisfiedByLicenceType } } }
  }
}"""


async def _item(desk: Desk, code: str, division: str, level: str) -> dict[str, Any]:
    variables = {"code": code, "division": division, "level": level}
    data = await desk.hub.gql(IMPLEMENTATION, variables)
    node: dict[str, Any] = data["data"]["matterImplementations"]["edges"][0]["node"]
    return node


def _paper(names: list[str]) -> list[dict[str, str]]:
    return [{"name": n, "source": "PAPER"} for n in names]


async def _verify(desk: Desk, token: str, who: str | None = None) -> dict[str, Any]:
    if who is None:
        body = await desk.hub.gql(VERIFY, {"token": token})
    else:
        body = await desk.ask(who, VERIFY, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["verifyLicence"]
    return result


async def _kit(desk: Desk) -> tuple[Kit, dict[str, Any]]:
    response = await desk.hub.gql.http.get("/licences/kit")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return Kit(document), document


def _docs_verifier() -> Callable[..., str]:
    """The docs' offline verifier (PyJWT only), the file the e-licences page shows."""
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "offline_verify.py"
    code = path.read_text(encoding="utf-8")
    assert "def verify(token: str, kit: dict" in code
    scope: dict[str, Any] = {}
    exec(code, scope)
    verify: Callable[..., str] = scope["verify"]
    return verify


def _scan(svg_token: str) -> str:
    """What a scanner reads from the licence's QR code."""
    qr = segno.make(svg_token, error="m", micro=False)
    matrix = np.array([[0 if bit else 255 for bit in row] for row in qr.matrix], dtype=np.uint8)
    image = np.kron(np.pad(matrix, 4, constant_values=255), np.ones((4, 4), dtype=np.uint8))
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return str(found.text)


async def _register_business(desk: Desk, holder: str = HOLDER) -> dict[str, Any]:
    town_item = await _item(desk, INDIVIDUAL_BUSINESS, TOWN, "TOWN")
    names = [m["name"] for m in town_item["materials"]]
    submitted = (
        await desk.run(
            "xiuwen.receptionist",
            SUBMIT,
            input={
                "implementationCode": town_item["implementationCode"],
                "channel": "COUNTER",
                "materials": _paper(names),
                "applicantIdNumber": resident_id_number(int(holder.removeprefix("resident")) - 1),
            },
        )
    )["submitCase"]
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    fields = [
        {"key": "scope", "value": "日用百货零售"},
        {"key": "address", "value": "修文镇修文村1号"},
    ]
    done = (
        await desk.run(
            "xiuwen.receptionist", COMPLETE, input={"number": number, "licenceFields": fields}
        )
    )["completeCase"]
    assert done["errors"] == [], done
    assert done["case"]["status"] == "COMPLETED"
    (licence,) = done["case"]["licences"]
    return licence


async def test_issue_wallet_verify_reuse_revoke(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(DAY, 9))
    await desk.sign_in(HOLDER, "xiuwen.receptionist", "xiuwen.director")
    licence = await _register_business(desk)

    # issued at the town, in the town's name, in the same transaction as the decision
    assert (licence["typeCode"], licence["status"], licence["version"]) == ("YYZZ", "VALID", 1)
    assert licence["issuerLevel"] == "TOWN" and "修文" in licence["issuerName"]
    assert licence["identifier"].startswith("YYZZ.")
    assert licence["validUntil"] is None  # 营业执照: 长期
    values = {f["key"]: f["value"] for f in licence["fields"]}
    assert values["scope"] == "日用百货零售" and values["registeredOn"] == DAY.isoformat()
    assert values["form"] == "个人经营"  # the type's default
    token, identifier = licence["token"], licence["identifier"]

    # the library copy travels through the outbox: the wallet shows it once relayed
    await carry(nodes, FixedClock(at(DAY, 9)))
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    mine = [e["node"] for e in wallet if e["node"]["identifier"] == identifier]
    assert len(mine) == 1 and mine[0]["token"] == token and mine[0]["status"] == "VALID"
    assert mine[0]["holderIdMasked"].count("*") >= 8

    # online, by anyone (a kiosk not signed in): valid, with what it says of itself
    online = await _verify(desk, token)
    assert (online["valid"], online["outcome"], online["status"]) == (True, "VALID", "VALID")
    assert online["claims"]["identifier"] == identifier and online["licence"] is None
    assert {"label": "经营范围", "value": "日用百货零售"} in online["claims"]["fields"]
    # staff of the issuing jurisdiction also get the library record
    staff = await _verify(desk, token, "xiuwen.director")
    assert staff["licence"] == {"identifier": identifier}

    # offline, with the kit: JWKS and signed status lists
    kit, document = await _kit(desk)
    assert verify_offline(token, kit, at(DAY, 10)).outcome.value == "VALID"
    readme_verify = _docs_verifier()
    assert readme_verify(token, document, at(DAY, 10).timestamp()) == "VALID"
    forged = token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
    with pytest.raises(jwt.InvalidTokenError):
        readme_verify(forged, document, at(DAY, 10).timestamp())
    # its QR code carries the token a counter scanner reads and verifies
    assert _scan(token) == token
    assert (await _verify(desk, _scan(token)))["valid"] is True

    # a later application needing the 营业执照: filled from the library, never asked for
    food = await _item(desk, FOOD, "140702000000", "COUNTY")
    wanted = {m["name"]: m["satisfiedByLicenceType"] for m in food["materials"]}
    assert "YYZZ" in wanted.values()
    others = [n for n, t in wanted.items() if t != "YYZZ"]
    applied = await desk.submit(HOLDER, food["implementationCode"], others)
    assert applied["errors"] == [], applied
    (filled,) = [m for m in applied["case"]["materials"] if wanted[m["name"]] == "YYZZ"]
    assert (filled["state"], filled["source"], filled["reference"]) == (
        "PROVIDED",
        "LICENCE",
        identifier,
    )
    food_number = applied["case"]["number"]
    await carry(nodes, FixedClock(at(DAY, 11)))
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    (seen,) = [e["node"] for e in wallet if e["node"]["identifier"] == identifier]
    assert [(u["kind"], u["caseNumber"]) for u in seen["uses"]] == [("MATERIAL", food_number)]
    assert "食品经营许可" in seen["uses"][0]["purpose"]

    # revocation: online at once (no relay needed), offline only after the kit's TTL
    await desk.travel(at(DAY, 14))
    revoked = await desk.run(
        "xiuwen.director", REVOKE, input={"id": identifier, "reason": "提交虚假材料取得登记"}
    )
    assert revoked["revokeLicence"]["errors"] == []
    assert revoked["revokeLicence"]["licence"]["status"] == "REVOKED"
    online = await _verify(desk, token)
    assert (online["valid"], online["outcome"], online["reason"]) == (False, "REVOKED", "REVOKED")
    ttl = desk.hub.app.state.settings.licence_status_ttl_seconds
    assert verify_offline(token, kit, at(DAY, 14)).outcome.value == "VALID"  # old kit, in TTL
    assert readme_verify(token, document, at(DAY, 14).timestamp()) == "VALID"
    past_ttl = at(DAY, 10) + dt.timedelta(seconds=ttl)
    assert verify_offline(token, kit, past_ttl).outcome.value == "UNKNOWN"  # never VALID
    assert readme_verify(token, document, past_ttl.timestamp()) == "UNKNOWN"
    fresh, fresh_document = await _kit(desk)
    assert verify_offline(token, fresh, at(DAY, 14)).outcome.value == "REVOKED"
    assert readme_verify(token, fresh_document, at(DAY, 14).timestamp()) == "REVOKED"

    # a revoked licence is never filled in again, and cannot be presented either
    await carry(nodes, FixedClock(at(DAY, 15)))
    again = await desk.submit(HOLDER, food["implementationCode"], others)
    (owed,) = [m for m in again["case"]["materials"] if wanted[m["name"]] == "YYZZ"]
    assert owed["source"] != "LICENCE" or owed["reference"] != identifier
    presented = [
        *({"name": n, "source": "FILE", "reference": "f"} for n in others),
        {
            "name": next(n for n, t in wanted.items() if t == "YYZZ"),
            "source": "LICENCE",
            "reference": identifier,
        },
    ]
    refused = (
        await desk.run(
            HOLDER,
            SUBMIT,
            input={
                "implementationCode": food["implementationCode"],
                "channel": "MOBILE",
                "materials": presented,
            },
        )
    )["submitCase"]
    assert refused["case"] is None
    assert [e["code"] for e in refused["errors"]] == ["LICENCE_NOT_VALID"]

    # someone else's licence, or a mistyped identifier: refused, typed, nothing written
    async def present(who: str, reference: str) -> list[str]:
        materials = [*presented[:-1], {**presented[-1], "reference": reference}]
        payload = (
            await desk.run(
                who,
                SUBMIT,
                input={
                    "implementationCode": food["implementationCode"],
                    "channel": "MOBILE",
                    "materials": materials,
                },
            )
        )["submitCase"]
        assert payload["case"] is None
        return [e["code"] for e in payload["errors"]]

    assert await present("resident1", identifier) == ["LICENCE_HOLDER_MISMATCH"]
    assert await present(HOLDER, identifier[:-1] + ("0" if identifier[-1] != "0" else "1")) == [
        "INVALID_LICENCE_ID"
    ]
    cases = "query { cases(first: 100) { edges { node { number } } } }"
    mine = {e["node"]["number"] for e in (await desk.run(HOLDER, cases))["cases"]["edges"]}
    assert {food_number, again["case"]["number"]} <= mine
    # a forged token, or none at all, is a verification result with a reason, never an error
    head, body, signature = token.split(".")
    forged = f"{head}.{body[:-4]}AAAA.{signature}"
    for bad, reason in ((forged, "BAD_SIGNATURE"), ("not a token", "MALFORMED")):
        result = await _verify(desk, bad)
        assert (result["valid"], result["outcome"], result["reason"]) == (
            False,
            "INVALID",
            reason,
        )
        assert result["claims"] is None
